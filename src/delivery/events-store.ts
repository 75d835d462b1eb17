import type BetterSqlite3 from 'better-sqlite3';
import { preparedAuditAppend } from '../audit/store.js';
import type { AuditEntry } from '../audit/types.js';
import type { NewJob } from '../queue/queue.js';
import type { SqliteJobQueue } from '../queue/sqlite-store.js';

export interface PendingEvent {
  id: string;
  orgId: string;
  sourceId: string;
  receivedAt: number;
  body: unknown;
  /** Replays so far: a replay's jobs are new jobs, not repeats of the first delivery's. */
  replays: number;
}

/** What processing decided for one event. */
export interface Decision {
  eventId: string;
  /**
   * The event's replays when it was read: a decision is recorded only while they are unchanged. A
   * replay meanwhile (after another instance processed it) asks for today's rules again, and this
   * decision's jobs would carry the old count's keys and be dropped as repeats.
   */
  replays: number;
  audit: AuditEntry;
  jobs: NewJob[];
}

/**
 * Events waiting for processing, and the one transaction that records what processing decided
 * for each: its audit row, its delivery jobs and its state. An event no longer pending (another
 * processor got there first) is skipped whole, so its jobs are never enqueued twice.
 */
export interface EventProcessingStore {
  /** The oldest pending events, at most `limit`. */
  pending(limit: number): Promise<PendingEvent[]>;
  /** Records every decision in one transaction; returns the ids of the events it processed. */
  commit(decisions: readonly Decision[], now: number): Promise<string[]>;
}

export function sqliteEventProcessingStore(
  sqlite: BetterSqlite3.Database,
  queue: SqliteJobQueue,
): EventProcessingStore {
  // Prepared on first use: the server may start before its migrations are applied.
  let prepared: ReturnType<typeof prepare> | undefined;
  const sql = () => {
    prepared ??= prepare(sqlite, queue);
    return prepared;
  };
  return {
    async pending(limit) {
      const rows = sql().pending.all(limit) as Array<{
        id: string;
        org_id: string;
        source_id: string;
        received_at: number;
        body: string;
        replays: number;
      }>;
      return rows.map((r) => ({
        id: r.id,
        orgId: r.org_id,
        sourceId: r.source_id,
        receivedAt: r.received_at,
        body: JSON.parse(r.body),
        replays: r.replays,
      }));
    },
    commit: async (decisions, now) => sql().commit(decisions, now),
  };
}

function prepare(sqlite: BetterSqlite3.Database, queue: SqliteJobQueue) {
  const pending = sqlite.prepare(
    "select id, org_id, source_id, received_at, body, replays from events where state = 'pending' order by id limit ?",
  );
  const markProcessed = sqlite.prepare(
    "update events set state = 'processed' where id = ? and state = 'pending' and replays = ?",
  );
  const audit = preparedAuditAppend(sqlite);
  const commit = sqlite.transaction((decisions: readonly Decision[], now: number) => {
    const done: string[] = [];
    const jobs: NewJob[] = [];
    for (const d of decisions) {
      if (markProcessed.run(d.eventId, d.replays).changes !== 1) continue;
      audit(d.audit);
      jobs.push(...d.jobs);
      done.push(d.eventId);
    }
    // One enqueue for the batch: one wake-up of the runners, not one per event (each could start
    // a claim that finds the slots full or the jobs not committed yet).
    queue.enqueue(jobs, now);
    return done;
  });
  return { pending, commit };
}
