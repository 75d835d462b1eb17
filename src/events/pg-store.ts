import { and, asc, eq, sql } from 'drizzle-orm';
import { appendAuditPg, pgAuditStore } from '../audit/pg-store.js';
import type { PgDatabase } from '../db/pg/client.js';
import { deliveryAttempts, events } from '../db/pg/schema.js';
import type { DeliveryQueries } from '../delivery/deliveries-store.js';
import { type AuditRow, type ListedEvent, OUTCOME_KINDS, summaries } from './list-store.js';
import { type EventQueries, eventDetail } from './store.js';

/** The PostgreSQL twin of `sqliteEventQueries`: the same pages, outcomes and detail. */
export function pgEventQueries(database: PgDatabase, deliveries: DeliveryQueries): EventQueries {
  const { db, sql: q } = database;
  const audit = pgAuditStore(db);
  return {
    async list(orgId, f) {
      const source = f.sourceId ?? null;
      const before = f.before ?? null;
      const byConversation =
        f.conversationId === undefined
          ? q``
          : q`and e.id in (select event_id from audit_log
               where org_id = ${orgId} and conversation_id = ${f.conversationId} and event_id is not null)`;
      const rows = await q<ListedEvent[]>`
        select e.id, e.source_id, e.received_at::float8 as received_at, e.state, e.replays from events e
        where e.org_id = ${orgId}
          and (${source}::text is null or e.source_id = ${source})
          and (${before}::text is null or e.id < ${before})
          ${byConversation}
        order by e.id desc limit ${f.limit + 1}`;
      const shown = rows.slice(0, f.limit);
      const auditRows =
        shown.length === 0
          ? []
          : await q<AuditRow[]>`
              select event_id, kind, conversation_id, detail from audit_log
              where org_id = ${orgId} and event_id = any(${shown.map((e) => e.id)})
                and kind = any(${[...OUTCOME_KINDS]})
              order by id`;
      return { items: summaries(shown, auditRows), more: rows.length > f.limit };
    },
    async recent(orgId, sourceId, limit) {
      const source = sourceId ?? null;
      return q<Array<{ id: string; sourceId: string; receivedAt: number; body: string }>>`
        select id, source_id as "sourceId", received_at::float8 as "receivedAt", body from events
        where org_id = ${orgId} and (${source}::text is null or source_id = ${source})
        order by id desc limit ${limit}`;
    },
    async get(orgId, id) {
      const [e] = await db
        .select()
        .from(events)
        .where(and(eq(events.orgId, orgId), eq(events.id, id)));
      if (!e) return undefined;
      const jobRows = await deliveries.ofEvent(orgId, id);
      const attempts = await db
        .select()
        .from(deliveryAttempts)
        .where(and(eq(deliveryAttempts.orgId, orgId), eq(deliveryAttempts.eventId, id)))
        .orderBy(asc(deliveryAttempts.id));
      const history = (await audit.list(orgId, { eventId: id, limit: 500 })).items.reverse();
      return eventDetail(e, jobRows, attempts, history);
    },
    async replay(orgId, id, entry) {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(events)
          .set({ state: 'pending', replays: sql`${events.replays} + 1` })
          .where(and(eq(events.orgId, orgId), eq(events.id, id)))
          .returning({ replays: events.replays });
        if (!row) return undefined;
        await appendAuditPg(tx, { ...entry, detail: { ...entry.detail, replay: row.replays } });
        return row.replays;
      });
    },
  };
}
