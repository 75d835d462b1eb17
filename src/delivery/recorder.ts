import type BetterSqlite3 from 'better-sqlite3';
import { preparedAuditAppend } from '../audit/store.js';
import type { AuditEntry } from '../audit/types.js';
import { newId } from '../lib/ids.js';

export interface AttemptRow {
  orgId: string;
  jobId: string;
  eventId: string;
  at: number;
  operation: string;
  status: number | undefined;
  outcome: string;
  code: string | undefined;
  correlationId: string | undefined;
  durationMs: number;
}

/** Writes delivery attempts and outcome audit rows (prepared on first use, like the other hot stores). */
export class DeliveryRecorder {
  private prepared: ReturnType<typeof prepare> | undefined;

  constructor(private readonly sqlite: BetterSqlite3.Database) {}

  private get sql() {
    this.prepared ??= prepare(this.sqlite);
    return this.prepared;
  }

  attempt(a: AttemptRow): void {
    this.sql.attempt.run(
      newId('att', a.at),
      a.orgId,
      a.jobId,
      a.eventId,
      a.at,
      a.operation,
      a.status ?? null,
      a.outcome,
      a.code ?? null,
      a.correlationId ?? null,
      Math.round(a.durationMs),
    );
  }

  audit(entry: AuditEntry): void {
    this.sql.audit(entry);
  }
}

function prepare(sqlite: BetterSqlite3.Database) {
  return {
    attempt: sqlite.prepare(
      `insert into delivery_attempts (id, org_id, job_id, event_id, at, operation, status, outcome, code, correlation_id, duration_ms)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    audit: preparedAuditAppend(sqlite),
  };
}
