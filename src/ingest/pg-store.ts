import { inArray, sql } from 'drizzle-orm';
import { appendAuditManyPg } from '../audit/pg-store.js';
import type { AuditEntry } from '../audit/types.js';
import type { PgDatabase, PgTx } from '../db/pg/client.js';
import { insertRows } from '../db/pg/insert-rows.js';
import { retried } from '../db/pg/retried.js';
import { events, sources } from '../db/pg/schema.js';
import { groupCommit } from '../lib/group-commit.js';
import { newId, raiseIdFloor } from '../lib/ids.js';
import { type AcceptResult, type EventStore, type IncomingEvent, receivedEntry } from './store.js';

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
  const accept = groupCommit(async (batch: IncomingEvent[]) => {
    const results = await retried(() =>
      database.db.transaction((tx) => writeBatch(tx, batch, opts.dedupWindowMs)),
    );
    if (results.some((r) => 'eventId' in r && !r.duplicate)) opts.onAccepted?.();
    return results;
  });
  return { accept };
}

async function writeBatch(
  tx: PgTx,
  batch: readonly IncomingEvent[],
  dedupWindowMs: number,
): Promise<AcceptResult[]> {
  const sourceIds = [...new Set(batch.map((e) => e.sourceId))];
  // Deleted (or its org uninstalled) since the request was authenticated: nothing is stored.
  const live = new Set(
    (await tx.select({ id: sources.id }).from(sources).where(inArray(sources.id, sourceIds))).map(
      (r) => r.id,
    ),
  );
  // After every event already committed, on any instance (see raiseIdFloor): processing takes
  // events in id order, so an event sent after another's 202 is never processed before it.
  const [top] = await tx.execute<{ id: string | null }>(sql`select max(id) as id from events`);
  if (top?.id) raiseIdFloor('evt', top.id);
  // Each live event's id, then every dedup key of the batch claimed in one statement.
  const ids = batch.map((e) => (live.has(e.sourceId) ? newId('evt', e.receivedAt) : undefined));
  const owners = await claimKeys(tx, batch, ids, dedupWindowMs);
  const results: AcceptResult[] = [];
  const rows: Array<typeof events.$inferInsert> = [];
  const audit: AuditEntry[] = [];
  for (const [i, e] of batch.entries()) {
    const eventId = ids[i];
    if (eventId === undefined) {
      results.push({ sourceGone: true });
      continue;
    }
    const owner = e.dedupKey === undefined ? eventId : owners.get(keyOf(e.sourceId, e.dedupKey))!;
    if (owner !== eventId) {
      results.push({ eventId: owner, duplicate: true });
      continue;
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
    audit.push(receivedEntry(e, eventId));
    results.push({ eventId, duplicate: false });
  }
  await insertRows(tx, events, rows);
  await appendAuditManyPg(tx, audit);
  return results;
}

const keyOf = (sourceId: string, key: string) => `${sourceId}\n${key}`;

/**
 * Claims the batch's dedup keys, each for the first live event that carries it, unless a live
 * claim holds it: one insert for all of them (in key order, so two instances' batches lock keys in
 * the same order), then one read of the keys held by earlier events. Returns, per key, the event
 * that owns it now. Later events of the batch with a key already seen in it are its repeats.
 */
async function claimKeys(
  tx: PgTx,
  batch: readonly IncomingEvent[],
  ids: ReadonlyArray<string | undefined>,
  windowMs: number,
): Promise<Map<string, string>> {
  const first = new Map<
    string,
    { source_id: string; key: string; org_id: string; event_id: string; expires_at: number }
  >();
  for (const [i, e] of batch.entries()) {
    const id = ids[i];
    if (id === undefined || e.dedupKey === undefined || first.has(keyOf(e.sourceId, e.dedupKey))) continue;
    first.set(keyOf(e.sourceId, e.dedupKey), {
      source_id: e.sourceId,
      key: e.dedupKey,
      org_id: e.orgId,
      event_id: id,
      expires_at: e.receivedAt + windowMs,
    });
  }
  const owners = new Map<string, string>();
  if (first.size === 0) return owners;
  const wanted = JSON.stringify([...first.values()]);
  // A key lapses when its expiry is at or before the event's receipt (expires_at - window).
  const claimed = await tx.execute<{ source_id: string; key: string; event_id: string }>(sql`
    insert into ingest_keys (source_id, key, org_id, event_id, expires_at)
    select k.source_id, k.key, k.org_id, k.event_id, k.expires_at
    from jsonb_to_recordset(${wanted}::jsonb) as k(source_id text, key text, org_id text, event_id text, expires_at bigint)
    order by k.source_id, k.key
    on conflict (source_id, key) do update
      set event_id = excluded.event_id, expires_at = excluded.expires_at
      where ingest_keys.expires_at <= excluded.expires_at - ${windowMs}
    returning source_id, key, event_id`);
  for (const r of claimed) owners.set(keyOf(r.source_id, r.key), r.event_id);
  const held = [...first.values()].filter((k) => !owners.has(keyOf(k.source_id, k.key)));
  if (held.length > 0) {
    const rows = await tx.execute<{ source_id: string; key: string; event_id: string }>(sql`
      select i.source_id, i.key, i.event_id from ingest_keys i
      join jsonb_to_recordset(${JSON.stringify(held)}::jsonb) as k(source_id text, key text)
        on i.source_id = k.source_id and i.key = k.key`);
    for (const r of rows) owners.set(keyOf(r.source_id, r.key), r.event_id);
  }
  return owners;
}
