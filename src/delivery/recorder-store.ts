import type BetterSqlite3 from 'better-sqlite3';
import { groupCommit } from '../lib/group-commit.js';
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
 * Writes each call to Genesys as a delivery attempt (outcome audit rows go with the queue's
 * settle, in its transaction).
 */
export interface DeliveryRecorder {
  attempt(a: AttemptRow): Promise<void>;
}

/** Prepared on first use, like the other hot stores (the server may start before migrating). */
export function sqliteDeliveryRecorder(sqlite: BetterSqlite3.Database): DeliveryRecorder {
  let prepared: ReturnType<typeof prepare> | undefined;
  const sql = () => {
    prepared ??= prepare(sqlite);
    return prepared;
  };
  // Calls ending in the same turn are written in one transaction.
  const write = groupCommit((batch: AttemptRow[]) => sql().attempts(batch));
  return { attempt: write };
}

function prepare(sqlite: BetterSqlite3.Database) {
  const insert = sqlite.prepare(
    `insert into delivery_attempts (id, org_id, job_id, event_id, at, operation, status, outcome, code, correlation_id, duration_ms)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // One transaction for a batch of calls, a row for each event each call carried.
  const attempts = sqlite.transaction((batch: AttemptRow[]) =>
    batch.map((a) => {
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
      return undefined;
    }),
  );
  return { attempts };
}
