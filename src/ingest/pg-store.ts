import { inArray, sql } from 'drizzle-orm';
import { appendAuditManyPg } from '../audit/pg-store.js';
import type { AuditEntry } from '../audit/types.js';
import type { PgDatabase, PgTx } from '../db/pg/client.js';
import { events, sources } from '../db/pg/schema.js';
import { newId, raiseIdFloor } from '../lib/ids.js';
import type { AcceptResult, EventStore, IncomingEvent } from './store.js';

interface Pending {
  event: IncomingEvent;
  resolve: (r: AcceptResult) => void;
  reject: (e: unknown) => void;
}

/**
 * The PostgreSQL twin of `sqliteEventStore`: the same group commit (event rows, dedup keys and
 * `event.received` audit rows of a batch in one transaction, each request answered after it
 * commits). One batch is in flight per instance; what arrives meanwhile is the next batch, so the
 * batch grows with the load instead of the number of round trips.
 *
 * Dedup holds across instances: a key is claimed by an insert on its primary key, which waits for
 * another instance's uncommitted claim of the same key and then finds it taken, so two instances
 * never both accept one key.
 */
export function pgEventStore(
  database: PgDatabase,
  opts: { dedupWindowMs: number; onAccepted?: () => void },
): EventStore {
  let queue: Pending[] = [];
  let flushing = false;

  const flush = async () => {
    flushing = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        const results = await database.db.transaction((tx) => writeBatch(tx, batch, opts.dedupWindowMs));
        for (const [i, p] of batch.entries()) p.resolve(results[i]!);
        if (results.some((r) => 'eventId' in r && !r.duplicate)) opts.onAccepted?.();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    flushing = false;
  };

  return {
    accept: (event) =>
      new Promise((resolve, reject) => {
        if (queue.length === 0 && !flushing) setImmediate(() => void flush());
        queue.push({ event, resolve, reject });
      }),
  };
}

async function writeBatch(
  tx: PgTx,
  batch: readonly Pending[],
  dedupWindowMs: number,
): Promise<AcceptResult[]> {
  const ids = [...new Set(batch.map((p) => p.event.sourceId))];
  // Deleted (or its org uninstalled) since the request was authenticated: nothing is stored.
  const live = new Set(
    (await tx.select({ id: sources.id }).from(sources).where(inArray(sources.id, ids))).map((r) => r.id),
  );
  // After every event already committed, on any instance (see raiseIdFloor): processing takes
  // events in id order, so an event sent after another's 202 is never processed before it.
  const [top] = await tx.execute<{ id: string | null }>(sql`select max(id) as id from events`);
  if (top?.id) raiseIdFloor('evt', top.id);
  const results: AcceptResult[] = [];
  const rows: Array<typeof events.$inferInsert> = [];
  const audit: AuditEntry[] = [];
  for (const { event: e } of batch) {
    if (!live.has(e.sourceId)) {
      results.push({ sourceGone: true });
      continue;
    }
    const eventId = newId('evt', e.receivedAt);
    if (e.dedupKey !== undefined) {
      const seen = await claimKey(tx, e, eventId, dedupWindowMs);
      if (seen !== eventId) {
        results.push({ eventId: seen, duplicate: true });
        continue;
      }
    }
    rows.push({
      id: eventId,
      orgId: e.orgId,
      sourceId: e.sourceId,
      receivedAt: e.receivedAt,
      dedupKey: e.dedupKey ?? null,
      body: e.body,
      headers: JSON.stringify(e.headers),
      state: 'pending',
    });
    audit.push({
      orgId: e.orgId,
      at: e.receivedAt,
      kind: 'event.received',
      actor: { type: 'source', id: e.sourceId },
      sourceId: e.sourceId,
      eventId,
      outcome: 'accepted',
      detail: {
        bytes: Buffer.byteLength(e.body),
        ...(e.dedupKey !== undefined ? { dedupKey: e.dedupKey } : {}),
      },
    });
    results.push({ eventId, duplicate: false });
  }
  if (rows.length > 0) await tx.insert(events).values(rows);
  await appendAuditManyPg(tx, audit);
  return results;
}

/**
 * Claims the source's key for `eventId` unless a live claim holds it; returns the event id that
 * owns the key now (ours, or the earlier event's).
 */
async function claimKey(tx: PgTx, e: IncomingEvent, eventId: string, windowMs: number): Promise<string> {
  const claimed = await tx.execute<{ event_id: string }>(sql`
    insert into ingest_keys (source_id, key, org_id, event_id, expires_at)
    values (${e.sourceId}, ${e.dedupKey}, ${e.orgId}, ${eventId}, ${e.receivedAt + windowMs})
    on conflict (source_id, key) do update
      set event_id = excluded.event_id, expires_at = excluded.expires_at
      where ingest_keys.expires_at <= ${e.receivedAt}
    returning event_id`);
  if (claimed.length > 0) return eventId;
  const held = await tx.execute<{ event_id: string }>(
    sql`select event_id from ingest_keys where source_id = ${e.sourceId} and key = ${e.dedupKey}`,
  );
  return held[0]!.event_id;
}
