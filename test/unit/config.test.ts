import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const KEY = Buffer.alloc(32, 7).toString('base64url');

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    const c = loadConfig({});
    expect(c.http).toEqual({ port: 8080, host: '0.0.0.0', publicUrl: 'http://localhost:8080' });
    expect(c.database.path).toBe('./data/relay.sqlite');
    expect(c.masterKeyFile).toBe('./data/master.key');
    expect(c.genesys).toEqual({ baseUrl: undefined, oauthClientId: undefined });
    expect(c.logLevel).toBe('info');
    expect(c.delivery).toEqual({ concurrency: 64 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every variable of the contract', () => {
    const c = loadConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      DATABASE_PATH: '/var/lib/relay/db.sqlite',
      RELAY_MASTER_KEY: KEY,
      GENESYS_BASE_URL: 'http://127.0.0.1:9090/',
      PUBLIC_URL: 'https://relay.example.com/',
      LOG_LEVEL: 'warn',
      GENESYS_OAUTH_CLIENT_ID: 'abc',
      NODE_ENV: 'production',
      DELIVERY_CONCURRENCY: '200',
    });
    expect(c.delivery.concurrency).toBe(200);
    expect(c.http).toEqual({ port: 9000, host: '127.0.0.1', publicUrl: 'https://relay.example.com' });
    expect(c.masterKeyFile).toBe('/var/lib/relay/master.key');
    expect(c.genesys).toEqual({ baseUrl: 'http://127.0.0.1:9090', oauthClientId: 'abc' });
    expect(c.masterKey).toBe(KEY);
    expect(c.production).toBe(true);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
    ['GENESYS_BASE_URL', 'not a url'],
    ['GENESYS_BASE_URL', 'ftp://x'],
    ['PUBLIC_URL', 'relay.example.com'],
    ['RELAY_MASTER_KEY', 'too-short'],
    ['RELAY_MASTER_KEY', 'not base64url!!'],
    ['DELIVERY_CONCURRENCY', '0'],
    ['DELIVERY_CONCURRENCY', 'lots'],
  ])('refuses a bad %s (%s) with one line naming it', (name, value) => {
    try {
      loadConfig({ [name]: value });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).variable).toBe(name);
      expect((e as Error).message).toContain(name);
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it('requires RELAY_MASTER_KEY in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/RELAY_MASTER_KEY/);
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '', GENESYS_BASE_URL: '' }).http.port).toBe(8080);
  });
});
