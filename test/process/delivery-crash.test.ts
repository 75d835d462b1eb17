import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GenesysEmulator } from '../../src/emulator/index.js';
import { type Spawned, spawnEntry } from '../helpers/process.js';
import { signedPost } from '../helpers/signed.js';
import { tempDir } from '../helpers/tmp.js';
import { INSTALLER_PERMISSIONS } from '../helpers/world.js';

/**
 * kill -9 of the real server while 500 events are in flight: after a restart every event that was
 * answered 202 reaches an outcome (applied, skipped or failed). None is lost.
 */
let emu: GenesysEmulator;
let emuServer: { url: string; close(): Promise<void> };
let dir: ReturnType<typeof tempDir>;
let env: Record<string, string>;
const children: Spawned[] = [];

beforeEach(async () => {
  emu = new GenesysEmulator({ rateLimitPerMinute: null });
  emuServer = await emu.listen({ port: 0, host: '127.0.0.1' });
  dir = tempDir('relay-crash');
  env = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_PATH: `${dir.path}/relay.sqlite`,
    RELAY_MASTER_KEY: randomBytes(32).toString('base64url'),
    GENESYS_BASE_URL: emuServer.url,
    LOG_LEVEL: 'warn',
  };
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  await emuServer.close();
  dir.cleanup();
});

async function start(): Promise<string> {
  const proc = spawnEntry('src/main.ts', { ...env, LOG_LEVEL: 'info' });
  children.push(proc);
  return (await proc.waitForLog('listening')).url as string;
}

const json = (token: string, body: unknown) => ({
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('a crash in the middle of delivery', () => {
  it('loses no accepted event: after kill -9 and a restart every one reaches an outcome', async () => {
    const url = await start();
    const org = emu.createOrg({ name: 'Acme' });
    const user = emu.createUser({ orgId: org.id, name: 'Ada', permissions: INSTALLER_PERMISSIONS });
    const token = emu.createUserToken(user.id);
    const grant = emu.createClient({ orgId: org.id, permissions: ['conversation:communication:view'] });
    await fetch(
      `${url}/v1/install`,
      json(token, { environment: 'mypurecloud.com', clientId: grant.id, clientSecret: grant.secret }),
    );
    const session = (
      (await (await fetch(`${url}/v1/session`, json(token, { environment: 'mypurecloud.com' }))).json()) as {
        token: string;
      }
    ).token;
    await fetch(`${url}/v1/tenant`, {
      ...json(session, { settings: { requestsPerMinute: 6000 } }),
      method: 'PATCH',
    });
    const source = (await (
      await fetch(`${url}/v1/sources`, json(session, { name: 'CRM', auth: 'standard-webhooks' }))
    ).json()) as {
      id: string;
      secret: string;
    };
    await fetch(
      `${url}/v1/rules`,
      json(session, {
        name: 'seq',
        when: { path: '$.type', op: 'exists' },
        target: { conversationId: '$.c' },
        set: { seq: '{{ $.seq }}' },
      }),
    );
    const convs = Array.from(
      { length: 50 },
      () => emu.createConversation({ orgId: org.id, participants: [{ purpose: 'customer' }] }).id,
    );

    const accepted: string[] = [];
    let next = 0;
    const send = async (i: number) => {
      const res = await signedPost(url, source, { type: 't', c: convs[i % convs.length], seq: i }, `m${i}`);
      if (res.status === 202) accepted.push(((await res.json()) as { eventId: string }).eventId);
    };
    // 16 senders; the server is killed once 250 events are in, while deliveries are under way.
    const killed = new Promise<void>((resolve) => {
      const senders = Array.from({ length: 16 }, async () => {
        for (let i = next++; i < 500; i = next++) {
          if (accepted.length >= 250 && children[0]!.child.exitCode === null) {
            children[0]!.child.kill('SIGKILL');
            resolve();
          }
          await send(i).catch(() => undefined); // refused connections after the kill
        }
      });
      void Promise.all(senders).then(() => resolve());
    });
    await killed;
    await children[0]!.exited;
    expect(accepted.length).toBeGreaterThanOrEqual(250);

    const url2 = await start();
    // The senders that were cut off resend, as a real sender would (dedup makes this safe).
    for (let i = 0; i < 500; i++) {
      const res = await signedPost(url2, source, { type: 't', c: convs[i % convs.length], seq: i }, `m${i}`);
      expect(res.status).toBe(202);
      // A duplicate may be an event committed just before the kill whose 202 never arrived: it
      // was accepted too, and must reach an outcome like the rest.
      const { eventId } = (await res.json()) as { eventId: string };
      if (!accepted.includes(eventId)) accepted.push(eventId);
    }
    const db = new Database(env.DATABASE_PATH!, { readonly: true });
    try {
      const outcome = db.prepare(
        "select count(distinct event_id) from audit_log where kind in ('patch.applied', 'patch.skipped', 'patch.failed') and event_id in (select value from json_each(?))",
      );
      await expect
        .poll(() => outcome.pluck().get(JSON.stringify(accepted)), { timeout: 30_000, interval: 100 })
        .toBe(accepted.length);
      expect(new Set(accepted).size).toBe(500);
      // And every conversation ended with the last value sent to it.
      for (let c = 0; c < convs.length; c++) {
        const lastSeq = 450 + c;
        expect(emu.getConversation(convs[c]!)?.participants[0]?.attributes.seq).toBe(String(lastSeq));
      }
    } finally {
      db.close();
    }
  }, 60_000);
});
