import { describe, expect, it } from 'vitest';
import { eventsWithOutcome, seqRelay, useServerProcess } from '../helpers/process.js';
import { signedPost } from '../helpers/signed.js';

/**
 * kill -9 of the real server while 500 events are in flight: after a restart every event that was
 * answered 202 reaches an outcome (applied, skipped or failed). None is lost.
 */
const server = useServerProcess('relay-crash', { rateLimitPerMinute: null });

describe('a crash in the middle of delivery', () => {
  it('loses no accepted event: after kill -9 and a restart every one reaches an outcome', async () => {
    const first = await server.start();
    const url = first.url;
    const { source, convs } = await seqRelay(server, url, 50);

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
    await expect
      .poll(() => eventsWithOutcome(server.env.DATABASE_PATH!, accepted), { timeout: 30_000, interval: 100 })
      .toBe(accepted.length);
    expect(new Set(accepted).size).toBe(500);
    // And every conversation ended with the last value sent to it.
    for (let c = 0; c < convs.length; c++) {
      const lastSeq = 450 + c;
      expect(server.emu.getConversation(convs[c]!)?.participants[0]?.attributes.seq).toBe(String(lastSeq));
    }
  }, 60_000);
});
