import { describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../src/emulator/index.js';
import { eventsWithOutcome, seqRelay, useServerProcess } from '../helpers/process.js';
import { signedPost } from '../helpers/signed.js';

/**
 * The probe that found values going backwards: 3,000 signed events for 100 participants from 16
 * senders, Genesys answering each call in 50 ms, the server killed with -9 while a PATCH is in
 * flight and restarted on the same database. Every participant must receive its values in order:
 * once an event's value was PATCHed, no older event's value may follow it.
 */
const server = useServerProcess('relay-order', { rateLimitPerMinute: null, latencyMs: 50 });

const EVENTS = 3_000;
const PARTICIPANTS = 100;

/** The `seq` values each participant was sent, in the order Genesys received them (2xx only). */
function receivedBy(requests: readonly RecordedRequest[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of requests) {
    if (r.method !== 'PATCH' || r.status < 200 || r.status > 299) continue;
    const seq = (JSON.parse(r.body) as { attributes: Record<string, string> }).attributes.seq;
    if (seq === undefined) continue;
    out.set(r.path, [...(out.get(r.path) ?? []), Number(seq)]);
  }
  return out;
}

describe('order across a crash', () => {
  it('kill -9 mid-PATCH: no participant is ever sent an older value after a newer one', async () => {
    const first = await server.start();
    const { source, convs } = await seqRelay(server, first.url, PARTICIPANTS);
    const post = (url: string, i: number) =>
      signedPost(url, source, { type: 't', c: convs[i % PARTICIPANTS], seq: i }, `m${i}`);

    let next = 0;
    let accepted = 0;
    const senders = Array.from({ length: 16 }, async () => {
      for (let i = next++; i < EVENTS && first.proc.child.exitCode === null; i = next++) {
        const res = await post(first.url, i).catch(() => undefined);
        if (res?.status === 202) accepted++;
      }
    });
    // Killed once half the events are in and a PATCH is on its way to Genesys (in flight for 50 ms).
    const inFlight = () => server.emu.requests.some((r) => r.method === 'PATCH' && r.status === 0);
    await expect
      .poll(() => accepted >= EVENTS / 2 && inFlight(), { timeout: 30_000, interval: 2 })
      .toBe(true);
    first.proc.child.kill('SIGKILL');
    await first.proc.exited;
    await Promise.all(senders);

    const second = await server.start();
    expect((await second.proc.waitForLog('recovered deliveries interrupted by a stop')).jobs).toBeGreaterThan(
      0,
    );
    // Senders cut off by the kill send everything again, as a real sender would (dedup makes it safe).
    const ids = new Set<string>();
    next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < EVENTS; i = next++) {
          const res = await post(second.url, i);
          expect(res.status).toBe(202);
          ids.add(((await res.json()) as { eventId: string }).eventId);
        }
      }),
    );
    await expect
      .poll(() => eventsWithOutcome(server.env.DATABASE_PATH!, [...ids]), { timeout: 60_000, interval: 200 })
      .toBe(EVENTS);

    const received = receivedBy(server.emu.requests);
    expect(received.size).toBe(PARTICIPANTS);
    for (const [path, values] of received) {
      const backwards = values.findIndex((v, i) => i > 0 && v < values[i - 1]!);
      expect(backwards, `${path} received ${values.join(', ')}`).toBe(-1);
    }
    for (let c = 0; c < PARTICIPANTS; c++) {
      const last = EVENTS - PARTICIPANTS + c;
      expect(server.emu.getConversation(convs[c]!)?.participants[0]?.attributes.seq).toBe(String(last));
    }
  }, 120_000);
});
