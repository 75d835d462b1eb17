import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { useServerProcess } from '../helpers/process.js';
import { signedPost } from '../helpers/signed.js';
import { INSTALLER_PERMISSIONS } from '../helpers/world.js';

/** The real server process (as `npm start` runs it) against the emulator in this process. */
const server = useServerProcess('relay-ingest-proc');
const startServer = (extra: Record<string, string> = {}) => server.start(extra);

/** Installs an org through the API and creates a standard-webhooks source. */
async function seedSource(url: string): Promise<{ id: string; secret: string }> {
  const org = server.emu.createOrg({ name: 'Acme' });
  const admin = server.emu.createUser({ orgId: org.id, name: 'Ada', permissions: INSTALLER_PERMISSIONS });
  const userToken = server.emu.createUserToken(admin.id);
  const json = (token: string, body: unknown) => ({
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect((await fetch(`${url}/v1/install`, json(userToken, { environment: 'mypurecloud.com' }))).status).toBe(
    201,
  );
  const session = (await (
    await fetch(`${url}/v1/session`, json(userToken, { environment: 'mypurecloud.com' }))
  ).json()) as {
    token: string;
  };
  const res = await fetch(
    `${url}/v1/sources`,
    json(session.token, { name: 'CRM', auth: 'standard-webhooks' }),
  );
  return (await res.json()) as { id: string; secret: string };
}

/** Peak resident memory of a process so far, in bytes (Linux). */
function peakRss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

/** Sends `total` bytes in 64 KiB writes; resolves with the status, whatever the socket does after. */
function sendLarge(url: string, path: string, total: number, chunked: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(chunked ? {} : { 'content-length': String(total) }),
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    // The server answers 413 and may close before the upload ends: that is the point.
    req.on('error', (e: NodeJS.ErrnoException) =>
      e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e),
    );
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('ingest in the real server process', () => {
  it('refuses a 10 MB body with 413 without its memory growing by anything like that', async () => {
    // A small young generation: chunks read and dropped are collected at once, so peak RSS shows
    // what is kept, not garbage V8 has not collected yet (up to its 16 MB semi-space).
    const { proc, url } = await startServer({ NODE_OPTIONS: '--max-semi-space-size=1' });
    const source = await seedSource(url);
    for (let i = 0; i < 20; i++)
      expect((await signedPost(url, source, { warm: i }, `warm-${i}`)).status).toBe(202);
    // Let the warm-up events be processed first, so what is measured is the large bodies alone.
    const db = new Database(server.env.DATABASE_PATH!, { readonly: true });
    await expect
      .poll(() => db.prepare("select count(*) from events where state = 'pending'").pluck().get())
      .toBe(0);
    db.close();
    const pid = proc.child.pid!;
    const before = peakRss(pid);
    expect(await sendLarge(url, `/v1/hooks/${source.id}`, 10 * 1024 * 1024, false)).toBe(413);
    expect(await sendLarge(url, `/v1/hooks/${source.id}`, 10 * 1024 * 1024, true)).toBe(413);
    const growth = peakRss(pid) - before;
    // Buffering a 10 MB body whole costs at least 20 MB of peak RSS (its chunks, then their
    // concatenation); reading and dropping it costs a few MB of transient buffers.
    expect(growth).toBeLessThan(10 * 1024 * 1024);
    // Still serving normally.
    expect((await signedPost(url, source, { after: true }, 'after')).status).toBe(202);
  });

  it('keeps an event answered 202 when the process is killed -9 right after', async () => {
    const first = await startServer();
    const source = await seedSource(first.url);
    const res = await signedPost(first.url, source, { type: 'order.shipped', id: 42 }, 'msg-kill');
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };
    first.proc.child.kill('SIGKILL');
    expect(await first.proc.exited).toBeNull();

    const second = await startServer();
    expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
    const db = new Database(server.env.DATABASE_PATH!, { readonly: true });
    try {
      const row = () =>
        db.prepare('select body, state from events where id = ?').get(eventId) as {
          body: string;
          state: string;
        };
      expect(JSON.parse(row().body)).toEqual({ type: 'order.shipped', id: 42 });
      // The restarted server's worker takes it from wherever the kill left it.
      await expect.poll(() => row().state).toBe('processed');
    } finally {
      db.close();
    }
    // And the restarted server still knows it: the same webhook-id is a duplicate of it.
    const again = await signedPost(second.url, source, { type: 'order.shipped', id: 42 }, 'msg-kill');
    expect(await again.json()).toEqual({ eventId, duplicate: true });
  });
});
