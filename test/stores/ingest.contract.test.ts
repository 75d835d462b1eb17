import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgEventStore } from '../../src/ingest/pg-store.js';
import { type EventStore, type IncomingEvent, sqliteEventStore } from '../../src/ingest/store.js';
import { backends, type OnBackend } from './backends.js';

/**
 * Ingest's dedup on both backends, with two stores on one database standing for two instances:
 * however the same webhook-id arrives (in one batch, or at two instances at once), one event is
 * stored and every answer names it.
 */
const WINDOW = 86_400_000;
const T = Date.parse('2026-11-25T12:00:00Z');

describe.each(
  backends<[EventStore, EventStore]>(
    (d) => [
      sqliteEventStore(d.sqlite, { dedupWindowMs: WINDOW }),
      sqliteEventStore(d.sqlite, { dedupWindowMs: WINDOW }),
    ],
    (d) => [pgEventStore(d, { dedupWindowMs: WINDOW }), pgEventStore(d, { dedupWindowMs: WINDOW })],
  ),
)('ingest dedup on %s', (_name, open) => {
  let b: OnBackend<[EventStore, EventStore]>;
  beforeAll(async () => {
    b = await open();
    await b.run(
      `insert into sources (id, org_id, name, auth, secret_sealed, created_at) values (?, ?, ?, ?, ?, ?)`,
      'src_1',
      'org-a',
      'CRM',
      'standard-webhooks',
      'sealed',
      T,
    );
  });
  afterAll(() => b.close());

  const event = (key: string, at = T): IncomingEvent => ({
    orgId: 'org-a',
    sourceId: 'src_1',
    receivedAt: at,
    dedupKey: key,
    body: '{"a":1}',
    headers: {},
  });

  it('one key at two instances at once, many times each: one event, every answer names it', async () => {
    const [one, two] = b.store;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).accept(event('k-race'))),
    );
    const ids = new Set(answers.map((a) => ('eventId' in a ? a.eventId : 'gone')));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => 'duplicate' in a && !a.duplicate)).toHaveLength(1);
    const rows = await b.all<{ n: number }>(`select count(*) as n from events where dedup_key = ?`, 'k-race');
    expect(Number(rows[0]!.n)).toBe(1);
  });

  it('a key is new again once its window has passed', async () => {
    const [one, two] = b.store;
    const first = await one.accept(event('k-window'));
    const again = await two.accept(event('k-window', T + WINDOW - 1));
    const later = await two.accept(event('k-window', T + WINDOW));
    expect(again).toEqual({ eventId: (first as { eventId: string }).eventId, duplicate: true });
    expect(later).toMatchObject({ duplicate: false });
    expect((later as { eventId: string }).eventId).not.toBe((first as { eventId: string }).eventId);
  });
});
