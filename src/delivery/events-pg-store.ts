import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { appendAuditManyPg } from '../audit/pg-store.js';
import type { PgDatabase } from '../db/pg/client.js';
import { events } from '../db/pg/schema.js';
import { raiseIdFloor } from '../lib/ids.js';
import type { PgJobQueue } from '../queue/pg-store.js';
import type { Decision, EventProcessingStore } from './events-store.js';

/** Any key of our own for the advisory lock that serialises processing commits across instances. */
const PROCESSING_LOCK = 7_412_508_994;

/**
 * The PostgreSQL twin of `sqliteEventProcessingStore`. Several instances may read the same
 * pending events; `commit` takes each event's row `FOR UPDATE SKIP LOCKED` and only while it is
 * still pending, so an event another instance is committing (or has committed) is skipped whole
 * and its jobs are never enqueued twice. Audit rows are appended org by org (in event order within
 * an org): every transaction takes the orgs' advisory locks in the same order, so two commits
 * never deadlock on them.
 */
export function pgEventProcessingStore(database: PgDatabase, queue: PgJobQueue): EventProcessingStore {
  const { db } = database;
  return {
    async pending(limit) {
      const rows = await db
        .select({
          id: events.id,
          orgId: events.orgId,
          sourceId: events.sourceId,
          receivedAt: events.receivedAt,
          body: events.body,
          replays: events.replays,
        })
        .from(events)
        .where(eq(events.state, 'pending'))
        .orderBy(asc(events.id))
        .limit(limit);
      return rows.map((r) => ({ ...r, body: JSON.parse(r.body) }));
    },
    async commit(decisions, now) {
      if (decisions.length === 0) return [];
      return db.transaction(async (tx) => {
        // One instance commits processing at a time, and its jobs' ids follow every job already
        // queued (raiseIdFloor): a lane's jobs then run in the order of their events, whichever
        // instances processed them. Processing is cheap next to delivery; one at a time is plenty.
        // An instance that finds another committing gives way instead of queueing behind it: the
        // holder drains what is pending, these events included (the worker's 1 s poll picks up
        // any that arrive after its last read). Queueing made three instances slower than one.
        const [lock] = await tx.execute<{ ok: boolean }>(
          sql`select pg_try_advisory_xact_lock(${PROCESSING_LOCK}) as ok`,
        );
        if (!lock?.ok) return [];
        const [top] = await tx.execute<{ id: string | null }>(sql`select max(id) as id from jobs`);
        if (top?.id) raiseIdFloor('job', top.id);
        const ids = decisions.map((d) => d.eventId);
        const locked = await tx
          .select({ id: events.id, replays: events.replays })
          .from(events)
          .where(and(inArray(events.id, ids), eq(events.state, 'pending')))
          .orderBy(asc(events.id))
          .for('update', { skipLocked: true });
        // Replayed since it was read: left pending, for a decision under today's rules.
        const read = new Map(decisions.map((d) => [d.eventId, d.replays]));
        const mine = new Set(locked.filter((r) => read.get(r.id) === r.replays).map((r) => r.id));
        if (mine.size === 0) return [];
        await tx
          .update(events)
          .set({ state: 'processed' })
          .where(inArray(events.id, [...mine]));
        const taken = decisions.filter((d) => mine.has(d.eventId));
        const jobs = taken.flatMap((d: Decision) => d.jobs);
        if (jobs.length > 0) await queue.enqueue(tx, jobs, now);
        // Last, in event order, one insert for all of them (chained org by org): the chain locks
        // it takes hold up ingest and settles of the same orgs until this commits.
        await appendAuditManyPg(
          tx,
          taken.map((d) => d.audit),
        );
        return taken.map((d) => d.eventId);
      });
    },
  };
}
