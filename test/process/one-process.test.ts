import { describe, expect, it } from 'vitest';
import { spawnEntry, useServerProcess } from '../helpers/process.js';

/** SQLite means one process per database: a second start on the same file refuses, in one line. */
const server = useServerProcess('relay-one-process');

describe('one process per SQLite database', () => {
  it('a second server on the same DATABASE_PATH exits 1 naming the path and the process holding it', async () => {
    const first = await server.start();
    const second = spawnEntry('src/main.ts', server.env);
    expect(await second.exited).toBe(1);
    const lines = second.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `DATABASE_PATH ${server.env.DATABASE_PATH} is in use by process ${first.proc.child.pid}`,
    );
    // The first one never noticed.
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
  });

  it('a crash leaves no stale lock: after kill -9 the next start takes the database at once', async () => {
    const first = await server.start();
    first.proc.child.kill('SIGKILL');
    await first.proc.exited;
    const next = await server.start();
    expect((await fetch(`${next.url}/readyz`)).status).toBe(200);
  });

  it('a clean stop lets the next start take the database', async () => {
    const first = await server.start();
    first.proc.child.kill('SIGTERM');
    expect(await first.proc.exited).toBe(0);
    const next = await server.start();
    expect((await fetch(`${next.url}/healthz`)).status).toBe(200);
  });
});
