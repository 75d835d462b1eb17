import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { useServerProcess } from '../helpers/process.js';
import { signedPost } from '../helpers/signed.js';
import { INSTALLER_PERMISSIONS } from '../helpers/world.js';

/**
 * kill -9 of the real server while 500 events are in flight: after a restart every event that was
 * answered 202 reaches an outcome (applied, skipped or failed). None is lost.
 */
const server = useServerProcess('relay-crash', { rateLimitPerMinute: null });

const json = (token: string, body: unknown) => ({
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('a crash in the middle of delivery', () => {
  it('loses no accepted event: after kill -9 and a restart every one reaches an outcome', async () => {
    const first = await server.start();
    const url = first.url;
    const org = server.emu.createOrg({ name: 'Acme' });
    const user = server.emu.createUser({ orgId: org.id, name: 'Ada', permissions: INSTALLER_PERMISSIONS });
    const token = server.emu.createUserToken(user.id);
    const grant = server.emu.createClient({
      orgId: org.id,
      permissions: ['conversation:communication:view'],
    });
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
      () => server.emu.createConversation({ orgId: org.id, participants: [{ purpose: 'customer' }] }).id,
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
          if (accepted.length >= 250 && first.proc.child.exitCode === null) {
            first.proc.child.kill('SIGKILL');
            resolve();
          }
          await send(i).catch(() => undefined); // refused connections after the kill
        }
      });
      void Promise.all(senders).then(() => resolve());
    });
    await killed;
    await first.proc.exited;
    expect(accepted.length).toBeGreaterThanOrEqual(250);

    const { url: url2 } = await server.start();
    // The senders that were cut off resend, as a real sender would (dedup makes this safe).
    for (let i = 0; i < 500; i++) {
      const res = await signedPost(url2, source, { type: 't', c: convs[i % convs.length], seq: i }, `m${i}`);
      expect(res.status).toBe(202);
      // A duplicate may be an event committed just before the kill whose 202 never arrived: it
      // was accepted too, and must reach an outcome like the rest.
      const { eventId } = (await res.json()) as { eventId: string };
      if (!accepted.includes(eventId)) accepted.push(eventId);
    }
    const db = new Database(server.env.DATABASE_PATH!, { readonly: true });
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
        expect(server.emu.getConversation(convs[c]!)?.participants[0]?.attributes.seq).toBe(String(lastSeq));
      }
    } finally {
      db.close();
    }
  }, 60_000);
});
