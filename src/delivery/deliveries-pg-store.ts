import { and, asc, eq, gte, lt, max } from 'drizzle-orm';
import type { PgDatabase, PgDb } from '../db/pg/client.js';
import { deliveryAttempts, jobs } from '../db/pg/schema.js';
import { pgIdempotencyKey } from '../queue/pg-store.js';
import type { DeliveryQueries, DeliveryRow } from './deliveries-store.js';
import { DELIVER_JOB, jobKeyRange } from './process-events.js';

/** An event's deliver jobs, oldest first: the query, so a test can read its plan. */
export function eventJobs(db: PgDb, orgId: string, eventId: string) {
  const from = pgIdempotencyKey(jkPrefix(eventId));
  const to = from.slice(0, -1) + String.fromCharCode(from.charCodeAt(from.length - 1) + 1);
  return db
    .select({
      id: jobs.id,
      status: jobs.status,
      attempts: jobs.attempts,
      lastError: jobs.lastError,
      runAt: jobs.runAt,
      payload: jobs.payload,
    })
    .from(jobs)
    .where(
      and(
        eq(jobs.kind, DELIVER_JOB),
        eq(jobs.orgId, orgId),
        gte(jobs.idempotencyKey, from),
        lt(jobs.idempotencyKey, to),
      ),
    )
    .orderBy(asc(jobs.id));
}

/**
 * The PostgreSQL twin of `sqliteDeliveryQueries`. PostgreSQL stores the delivery keys encoded
 * (`pgIdempotencyKey`: no NUL in text, so `<event id>\0` is `<event id>\\0`), in the "C" collation
 * (migrations-pg/0009) so that they order byte by byte whatever the database's: an event's jobs
 * are then the range from its encoded prefix up to the same text with its last character one
 * higher, which the (kind, idempotency_key) index serves.
 */
export function pgDeliveryQueries(database: PgDatabase): DeliveryQueries {
  return {
    async ofEvent(orgId, eventId) {
      const rows = await eventJobs(database.db, orgId, eventId);
      return rows.map((j): DeliveryRow => {
        const p = JSON.parse(j.payload) as Pick<DeliveryRow, 'target' | 'attributes' | 'rules'>;
        return {
          jobId: j.id,
          status: j.status,
          attempts: j.attempts,
          lastError: j.lastError,
          nextAttemptAt: j.status === 'pending' ? j.runAt : null,
          target: p.target,
          attributes: p.attributes,
          rules: p.rules,
        };
      });
    },
    async lastApplied(orgId) {
      // Read in SQL text, as the SQLite twin does: only the audit stores name the audit table's symbol.
      const [r] = await database.sql<{ at: string }[]>`
        select at from audit_log where org_id = ${orgId} and kind = 'patch.applied' order by id desc limit 1`;
      return r ? Number(r.at) : null;
    },
    async lastRateLimited(orgId) {
      const [r] = await database.db
        .select({ at: max(deliveryAttempts.at) })
        .from(deliveryAttempts)
        .where(and(eq(deliveryAttempts.orgId, orgId), eq(deliveryAttempts.status, 429)));
      return r?.at == null ? null : Number(r.at);
    },
  };
}

/** Every key of an event starts with the lower bound of its SQLite range (`event` + NUL). */
const jkPrefix = (eventId: string) => jobKeyRange(eventId)[0];
