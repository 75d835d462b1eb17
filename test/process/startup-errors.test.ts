import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { spawnEntry } from '../helpers/process.js';
import { tempDir } from '../helpers/tmp.js';

/** A bad start-up setting: one line naming the variable and the fix, no stack, no secret, exit 1. */
let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir('startup');
});
afterEach(() => dir.cleanup());

const base = () => ({
  PORT: '0',
  HOST: '127.0.0.1',
  DATABASE_PATH: `${dir.path}/relay.sqlite`,
  RELAY_MASTER_KEY: randomBytes(32).toString('base64url'),
  LOG_LEVEL: 'warn',
});

async function refused(env: Record<string, string>): Promise<string> {
  const proc = spawnEntry('src/main.ts', env);
  expect(await proc.exited).toBe(1);
  const lines = proc.stderr().trim().split('\n');
  expect(lines, proc.stderr()).toHaveLength(1);
  expect(lines[0]).not.toMatch(/\bat \S+:\d+|Error:/);
  return lines[0]!;
}

describe('start-up failures explain themselves', () => {
  it('an invalid RELAY_MASTER_KEY is never echoed, and the line says how to make one', async () => {
    const line = await refused({ ...base(), RELAY_MASTER_KEY: 'hunter2-not-a-key' });
    expect(line).toMatch(
      /^invalid configuration: RELAY_MASTER_KEY must be 32 random bytes in base64url; make one with: node -e/,
    );
    expect(line).not.toContain('hunter2');
  });

  it('a DATABASE_URL that cannot be reached or is not PostgreSQL: one line, the URL never echoed', async () => {
    const port = await freePort();
    const url = `postgres://relay:s3cret-pw@127.0.0.1:${port}/relay`;
    const line = await refused({ ...base(), DATABASE_URL: url });
    expect(line).toBe(
      'invalid configuration: DATABASE_URL refuses connections: is PostgreSQL running at that host and port?',
    );
    const wrong = await refused({ ...base(), DATABASE_URL: 'mysql://root:s3cret-pw@db/relay' });
    expect(wrong).toBe('invalid configuration: DATABASE_URL must be a postgres:// or postgresql:// URL');
  });

  it('DATABASE_URL without RELAY_MASTER_KEY is refused: every instance needs the same key', async () => {
    const { RELAY_MASTER_KEY: _, ...env } = base();
    const line = await refused({ ...env, DATABASE_URL: 'postgres://relay:s3cret-pw@127.0.0.1:1/relay' });
    expect(line).toBe(
      'invalid configuration: RELAY_MASTER_KEY is required with DATABASE_URL: every instance on the database must have the same key',
    );
  });

  it('a key in standard base64 (+, /, =) is taken as it is', async () => {
    const standard = Buffer.alloc(32, 0xfb).toString('base64');
    expect(standard).toMatch(/[+/=]/);
    const proc = spawnEntry('src/main.ts', { ...base(), RELAY_MASTER_KEY: standard, LOG_LEVEL: 'info' });
    await proc.waitForLog('listening');
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('DATABASE_PATH that is a folder, or inside a file', async () => {
    mkdirSync(`${dir.path}/folder`);
    expect(await refused({ ...base(), DATABASE_PATH: `${dir.path}/folder` })).toBe(
      `invalid configuration: DATABASE_PATH ${dir.path}/folder is a folder: point it at a file in it, e.g. ./data/relay.sqlite`,
    );
    writeFileSync(`${dir.path}/file`, 'x');
    expect(await refused({ ...base(), DATABASE_PATH: `${dir.path}/file/relay.sqlite` })).toBe(
      `invalid configuration: DATABASE_PATH ${dir.path}/file/relay.sqlite is inside a file, not a folder: point it at a file in a folder`,
    );
  });

  it('a PORT in use', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    try {
      expect(await refused({ ...base(), PORT: String(port) })).toBe(
        `invalid configuration: PORT ${port} is in use on 127.0.0.1: stop what holds it, or set another PORT`,
      );
    } finally {
      holder.close();
    }
  });
});
