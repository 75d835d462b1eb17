import { and, asc, eq, max, sql } from 'drizzle-orm';
import type { PgDatabase } from '../db/pg/client.js';
import { deliveryAttempts, jobs } from '../db/pg/schema.js';
import { pgIdempotencyKey } from '../queue/pg-store.js';
import type { DeliveryQueries, DeliveryRow } from './deliveries-store.js';
import { DELIVER_JOB, jobKeyRange } from './process-events.js';

/**
 * The PostgreSQL twin of `sqliteDeliveryQueries`. PostgreSQL stores the delivery keys encoded
 * (`pgIdempotencyKey`: no NUL in text), and string order depends on the database's collation, so
 * an event's jobs are found by the encoded prefix rather than by a range of raw keys.
 */
export function pgDeliveryQueries(database: PgDatabase): DeliveryQueries {
  const { db } = database;
  return {
    async ofEvent(orgId, eventId) {
      const prefix = pgIdempotencyKey(jkPrefix(eventId));
      const rows = await db
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
            sql`starts_with(${jobs.idempotencyKey}, ${prefix})`,
          ),
        )
        .orderBy(asc(jobs.id));
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
      const [r] = await db
        .select({ at: max(deliveryAttempts.at) })
        .from(deliveryAttempts)
        .where(and(eq(deliveryAttempts.orgId, orgId), eq(deliveryAttempts.status, 429)));
      return r?.at == null ? null : Number(r.at);
    },
  };
}

/** Every key of an event starts with the lower bound of its SQLite range (`event` + NUL). */
const jkPrefix = (eventId: string) => jobKeyRange(eventId)[0];
