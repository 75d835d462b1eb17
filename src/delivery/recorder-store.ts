import type BetterSqlite3 from 'better-sqlite3';
import { preparedAuditAppend } from '../audit/store.js';
import type { AuditEntry } from '../audit/types.js';
import { newId } from '../lib/ids.js';

export interface AttemptRow {
  orgId: string;
  /** The job that made the call. */
  jobId: string;
  /** Every event whose values the call was for (a folded PATCH carries several): a row each. */
  eventIds: readonly string[];
  at: number;
  operation: string;
  status: number | undefined;
  outcome: string;
  code: string | undefined;
  correlationId: string | undefined;
  durationMs: number;
}

/**
 * Writes delivery attempts and outcome audit rows. Synchronous: `audit` runs inside the queue's
 * settle transaction (a row lands only while the run still owns its jobs).
 */
export interface DeliveryRecorder {
  attempt(a: AttemptRow): void;
  audit(entry: AuditEntry): void;
}

/** Prepared on first use, like the other hot stores (the server may start before migrating). */
export function sqliteDeliveryRecorder(sqlite: BetterSqlite3.Database): DeliveryRecorder {
  let prepared: ReturnType<typeof prepare> | undefined;
  const sql = () => {
    prepared ??= prepare(sqlite);
    return prepared;
  };
  return {
    attempt: (a) => sql().attempts(a),
    audit: (entry) => sql().audit(entry),
  };
}

function prepare(sqlite: BetterSqlite3.Database) {
  const insert = sqlite.prepare(
    `insert into delivery_attempts (id, org_id, job_id, event_id, at, operation, status, outcome, code, correlation_id, duration_ms)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // One transaction for a folded PATCH's rows: one commit, however many events it carried.
  const attempts = sqlite.transaction((a: AttemptRow) => {
    for (const eventId of a.eventIds) {
      insert.run(
        newId('att', a.at),
        a.orgId,
        a.jobId,
        eventId,
        a.at,
        a.operation,
        a.status ?? null,
        a.outcome,
        a.code ?? null,
        a.correlationId ?? null,
        Math.round(a.durationMs),
      );
    }
  });
  return { attempts, audit: preparedAuditAppend(sqlite) };
}
