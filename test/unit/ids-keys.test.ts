import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { loadKeys } from '../../src/crypto/keys.js';
import { newId, raiseIdFloor } from '../../src/lib/ids.js';
import { createLogger } from '../../src/lib/logger.js';
import { tempDir } from '../helpers/tmp.js';

describe('newId', () => {
  it('is prefixed, 26 lower-case base32 characters, and sorts by creation time', () => {
    const ids = [
      newId('evt', 1_000),
      newId('evt', 1_000),
      newId('evt', 1_000),
      newId('evt', 2_000),
      newId('evt', 1_500),
    ];
    for (const id of ids) expect(id).toMatch(/^evt_[0-9a-hjkmnp-tv-z]{26}$/);
    // Within one millisecond (and if the clock steps back) ids still strictly increase.
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('orders ids of later milliseconds after earlier ones', () => {
    const later = newId('aud', Date.now() + 10_000);
    const laterStill = newId('aud', Date.now() + 20_000);
    expect(laterStill > later).toBe(true);
  });
});

describe('raiseIdFloor', () => {
  it('makes the next ids sort after an id another instance made, even one from a clock ahead', () => {
    const ours = newId('att', 1_000);
    // Another instance's id, same millisecond and later ones.
    for (const theirs of [
      `att_${ours.slice(4, 14)}zzzzzzzzzzzzzzzz`,
      `att_${newId('req', 9_000).slice(4)}`,
    ]) {
      raiseIdFloor('att', theirs);
      const next = newId('att', 1_000);
      expect(next > theirs).toBe(true);
    }
  });

  it('never lowers the floor', () => {
    const early = newId('att', 500);
    const later = newId('att', 2_000_000);
    raiseIdFloor('att', early);
    expect(newId('att', 600) > later).toBe(true);
  });
});

describe('loadKeys', () => {
  const silent = createLogger('silent');

  it('derives a distinct, stable 32-byte key per purpose, never the master key itself', () => {
    const master = Buffer.alloc(32, 9);
    const config = loadConfig({ RELAY_MASTER_KEY: master.toString('base64url') });
    const a = loadKeys(config, silent);
    const b = loadKeys(config, silent);
    const session = a.derive('session-v1');
    const secrets = a.derive('secrets-v1');
    expect(session).toHaveLength(32);
    expect(Buffer.from(session).equals(Buffer.from(secrets))).toBe(false);
    expect(Buffer.from(session).equals(master)).toBe(false);
    expect(Buffer.from(b.derive('session-v1')).equals(Buffer.from(session))).toBe(true);
  });

  it('refuses a key file that does not hold 32 bytes', async () => {
    const dir = tempDir('keys');
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${dir.path}/master.key`, 'c2hvcnQ\n');
      const config = loadConfig({ DATABASE_PATH: `${dir.path}/relay.sqlite` });
      expect(() => loadKeys(config, silent)).toThrow(/RELAY_MASTER_KEY .*does not hold 32 bytes/);
    } finally {
      dir.cleanup();
    }
  });
});
