import { existsSync, readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnEntry } from '../helpers/process.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function folder() {
  const dir = tempDir('relay-proc');
  cleanups.push(dir.cleanup);
  return dir.path;
}

describe('the server process', () => {
  it('exits 1 with one line naming the bad variable', async () => {
    const proc = spawnEntry('src/main.ts', { PORT: 'eighty', DATABASE_PATH: `${folder()}/db.sqlite` });
    expect(await proc.exited).toBe(1);
    const lines = proc.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^invalid configuration: PORT /);
  });

  it('refuses to start in production without RELAY_MASTER_KEY', async () => {
    const proc = spawnEntry('src/main.ts', {
      NODE_ENV: 'production',
      DATABASE_PATH: `${folder()}/db.sqlite`,
    });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr().trim()).toMatch(/^invalid configuration: RELAY_MASTER_KEY is required/);
  });

  it('generates the master key once (mode 0600, with a warning), serves, and stops cleanly on SIGTERM', async () => {
    const dir = folder();
    const env = { PORT: '0', HOST: '127.0.0.1', DATABASE_PATH: `${dir}/relay.sqlite` };
    const first = spawnEntry('src/main.ts', env);
    const listening = await first.waitForLog('listening');
    const warning = await first.waitForLog(
      'RELAY_MASTER_KEY is not set: generated a master key file; set RELAY_MASTER_KEY in production',
    );
    expect(warning.level).toBe('warn');
    const keyFile = `${dir}/master.key`;
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile, 'utf8');
    expect(Buffer.from(key.trim(), 'base64url')).toHaveLength(32);

    const res = await fetch(`${listening.url as string}/healthz`);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${listening.url as string}/readyz`)).status).toBe(200);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    await first.waitForLog('stopped');
    // The database was closed: SQLite folds the WAL back and removes it on the last close.
    expect(existsSync(`${dir}/relay.sqlite-wal`)).toBe(false);

    const second = spawnEntry('src/main.ts', env);
    await second.waitForLog('listening');
    expect(second.stdout()).not.toContain('generated a master key file');
    expect(readFileSync(keyFile, 'utf8')).toBe(key);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });
});
