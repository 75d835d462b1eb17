import type BetterSqlite3 from 'better-sqlite3';
import { preparedAuditAppend } from '../audit/store.js';
import type { AuditEntry } from '../audit/types.js';
import { groupCommit } from '../lib/group-commit.js';
import { newId, raiseIdFloor } from '../lib/ids.js';

export interface IncomingEvent {
  orgId: string;
  sourceId: string;
  receivedAt: number;
  dedupKey: string | undefined;
  /** The raw JSON text as received. */
  body: string;
  headers: Record<string, string>;
}

/** The `event.received` audit row of an accepted event (both backends write it with the event). */
export function receivedEntry(e: IncomingEvent, eventId: string): AuditEntry {
  return {
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
  };
}

export type AcceptResult = { eventId: string; duplicate: boolean } | { sourceGone: true };

export interface EventStore {
  /** Resolves only once the event (or the finding that it is a repeat) is committed. */
  accept(event: IncomingEvent): Promise<AcceptResult>;
}

/**
 * Group commit: every event accepted during one turn of the event loop is written in a single
 * transaction (event row, dedup key, `event.received` audit row), and each request is answered
 * only after that commit. One commit per batch instead of per event is what lets ingest keep up
 * under load; in WAL mode with synchronous=NORMAL a commit survives a crash of the process.
 * Hand-written prepared SQL because this is the hottest write path of the server.
 */
export function sqliteEventStore(
  sqlite: BetterSqlite3.Database,
  opts: { dedupWindowMs: number; onAccepted?: () => void },
): EventStore {
  // Prepared on first use: the server may start before its migrations are applied (/readyz says so).
  let writeBatch: ((batch: IncomingEvent[]) => AcceptResult[]) | undefined;
  const accept = groupCommit((batch: IncomingEvent[]) => {
    writeBatch ??= prepareBatch(sqlite, opts);
    const results = writeBatch(batch);
    // Committed: processing may start.
    if (results.some((r) => 'eventId' in r && !r.duplicate)) opts.onAccepted?.();
    return results;
  });
  return { accept };
}

function prepareBatch(
  sqlite: BetterSqlite3.Database,
  opts: { dedupWindowMs: number },
): (batch: IncomingEvent[]) => AcceptResult[] {
  const sourceExists = sqlite.prepare('select 1 from sources where id = ?').pluck();
  const findKey = sqlite.prepare(
    'select event_id, expires_at from ingest_keys where source_id = ? and key = ?',
  );
  const putKey = sqlite.prepare(
    `insert into ingest_keys (source_id, key, org_id, event_id, expires_at) values (?, ?, ?, ?, ?)
     on conflict (source_id, key) do update set event_id = excluded.event_id, expires_at = excluded.expires_at`,
  );
  const insertEvent = sqlite.prepare(
    `insert into events (id, org_id, source_id, received_at, dedup_key, body, headers, state)
     values (?, ?, ?, ?, ?, ?, ?, 'pending')`,
  );
  const audit = preparedAuditAppend(sqlite);
  // After every stored event, whatever the clock says since the last start (NTP stepped it back, a
  // VM moved): processing takes events in id order.
  const top = sqlite.prepare('select max(id) from events').pluck().get() as string | null;
  if (top) raiseIdFloor('evt', top);

  const acceptOne = (e: IncomingEvent): AcceptResult => {
    // Deleted (or its org uninstalled) since the request was authenticated: nothing is stored.
    if (!sourceExists.get(e.sourceId)) return { sourceGone: true };
    if (e.dedupKey !== undefined) {
      const seen = findKey.get(e.sourceId, e.dedupKey) as
        | { event_id: string; expires_at: number }
        | undefined;
      if (seen && seen.expires_at > e.receivedAt) return { eventId: seen.event_id, duplicate: true };
    }
    const eventId = newId('evt', e.receivedAt);
    insertEvent.run(
      eventId,
      e.orgId,
      e.sourceId,
      e.receivedAt,
      e.dedupKey ?? null,
      e.body,
      JSON.stringify(e.headers),
    );
    if (e.dedupKey !== undefined)
      putKey.run(e.sourceId, e.dedupKey, e.orgId, eventId, e.receivedAt + opts.dedupWindowMs);
    audit(receivedEntry(e, eventId));
    return { eventId, duplicate: false };
  };
  return sqlite.transaction((batch: IncomingEvent[]) => batch.map(acceptOne));
}
