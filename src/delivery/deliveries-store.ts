import type BetterSqlite3 from 'better-sqlite3';
import { DELIVER_JOB, jobKeyRange } from './process-events.js';

/** One delivery of an event as the events view shows it. */
export interface DeliveryRow {
  jobId: string;
  status: string;
  /** Tries, as the audit's `attempts` counts them (a folded job: its head's). */
  attempts: number;
  lastError: string | null;
  /** Epoch ms of the next try while pending. */
  nextAttemptAt: number | null;
  target: unknown;
  attributes: Record<string, string>;
  rules: Array<{ ruleId: string; version: number }>;
}

/**
 * What delivery did for events and orgs, read by the events view and the tenant health. Delivery
 * owns its jobs' shape (payload, idempotency keys): nobody else parses them.
 */
export interface DeliveryQueries {
  ofEvent(orgId: string, eventId: string): Promise<DeliveryRow[]>;
  /** Newest `patch.applied` of the org, and the newest 429 Genesys gave it (epoch ms). */
  lastApplied(orgId: string): Promise<number | null>;
  lastRateLimited(orgId: string): Promise<number | null>;
}

export function sqliteDeliveryQueries(sqlite: BetterSqlite3.Database): DeliveryQueries {
  // Prepared on first use: the server may start before its migrations are applied.
  let sql: ReturnType<typeof prepare> | undefined;
  const q = () => {
    sql ??= prepare(sqlite);
    return sql;
  };
  return {
    async ofEvent(orgId, eventId) {
      const [from, to] = jobKeyRange(eventId);
      const rows = q().ofEvent.all(DELIVER_JOB, orgId, from, to) as Array<{
        id: string;
        status: string;
        attempts: number;
        last_error: string | null;
        run_at: number;
        payload: string;
      }>;
      return rows.map((j) => {
        const p = JSON.parse(j.payload) as Pick<DeliveryRow, 'target' | 'attributes' | 'rules'>;
        return {
          jobId: j.id,
          status: j.status,
          attempts: j.attempts,
          lastError: j.last_error,
          nextAttemptAt: j.status === 'pending' ? j.run_at : null,
          target: p.target,
          attributes: p.attributes,
          rules: p.rules,
        };
      });
    },
    async lastApplied(orgId) {
      return (q().lastApplied.get(orgId) as number | undefined) ?? null;
    },
    async lastRateLimited(orgId) {
      return (q().lastRateLimited.get(orgId) as number | null) ?? null;
    },
  };
}

function prepare(sqlite: BetterSqlite3.Database) {
  return {
    // A range on the (kind, idempotency_key) index finds an event's jobs without reading others.
    ofEvent: sqlite.prepare(
      `select id, status, attempts, last_error, run_at, payload from jobs
       where kind = ? and org_id = ? and idempotency_key > ? and idempotency_key < ? order by id`,
    ),
    lastApplied: sqlite
      .prepare(
        "select at from audit_log where org_id = ? and kind = 'patch.applied' order by id desc limit 1",
      )
      .pluck(),
    lastRateLimited: sqlite
      .prepare('select max(at) from delivery_attempts where org_id = ? and status = 429')
      .pluck(),
  };
}
