import type BetterSqlite3 from 'better-sqlite3';
import { and, asc, eq, sql } from 'drizzle-orm';
import { appendAudit, sqliteAuditStore } from '../audit/store.js';
import type { AuditEntry, AuditItem } from '../audit/types.js';
import type { Db } from '../db/client.js';
import { deliveryAttempts, events } from '../db/schema.js';
import type { DeliveryQueries } from '../delivery/deliveries-store.js';
import type { RecentEvents } from '../rules/backtest.js';
import {
  type EventListFilter,
  type EventSummary,
  sqliteEventList,
  sqliteRecentEvents,
} from './list-store.js';

export interface EventDetail {
  event: {
    id: string;
    sourceId: string;
    receivedAt: string;
    state: string;
    replays: number;
    headers: Record<string, string>;
    /** The JSON text exactly as received: shown spliced in, never parsed and encoded again. */
    bodyJson: string;
  };
  deliveries: Array<{
    jobId: string;
    status: string;
    /** Tries, as the audit's `attempts` counts them (a folded job: its head's). */
    attempts: number;
    lastError: string | null;
    nextAttemptAt: string | null;
    target: unknown;
    attributes: Record<string, string>;
    rules: Array<{ ruleId: string; version: number }>;
  }>;
  /** Every call to Genesys for the event (reads and 429s too): not the same thing as a try. */
  attempts: Array<{
    at: string;
    operation: string;
    status: number | null;
    outcome: string;
    code: string | null;
    correlationId: string | null;
    durationMs: number;
  }>;
  /** Every audit row about the event, oldest first: received, matched, patch outcomes, replays. */
  history: AuditItem[];
}

/** Reading one event with everything that happened to it; replaying it. Scoped by org. */
export interface EventQueries extends RecentEvents {
  /** Newest first, each with its outcome; `more` when another page follows. */
  list(orgId: string, filter: EventListFilter): Promise<{ items: EventSummary[]; more: boolean }>;
  get(orgId: string, id: string): Promise<EventDetail | undefined>;
  /** Puts it back to pending for processing under today's rules; false when the org has no such event. */
  replay(orgId: string, id: string, audit: AuditEntry): Promise<number | undefined>;
}

const iso = (ms: number) => new Date(ms).toISOString();

type EventRow = Pick<
  typeof events.$inferSelect,
  'id' | 'sourceId' | 'receivedAt' | 'state' | 'replays' | 'headers' | 'body'
>;
type AttemptRow = Pick<
  typeof deliveryAttempts.$inferSelect,
  'at' | 'operation' | 'status' | 'outcome' | 'code' | 'correlationId' | 'durationMs'
>;

/** An event's detail from its rows, the same on both backends. */
export function eventDetail(
  e: EventRow,
  jobRows: Awaited<ReturnType<DeliveryQueries['ofEvent']>>,
  attempts: readonly AttemptRow[],
  history: AuditItem[],
): EventDetail {
  return {
    event: {
      id: e.id,
      sourceId: e.sourceId,
      receivedAt: iso(e.receivedAt),
      state: e.state,
      replays: e.replays,
      headers: JSON.parse(e.headers) as Record<string, string>,
      bodyJson: e.body,
    },
    deliveries: jobRows.map((j) => ({
      ...j,
      nextAttemptAt: j.nextAttemptAt === null ? null : iso(j.nextAttemptAt),
    })),
    attempts: attempts.map((a) => ({
      at: iso(a.at),
      operation: a.operation,
      status: a.status,
      outcome: a.outcome,
      code: a.code,
      correlationId: a.correlationId,
      durationMs: a.durationMs,
    })),
    history,
  };
}

export function sqliteEventQueries(
  db: Db,
  sqlite: BetterSqlite3.Database,
  deliveries: DeliveryQueries,
): EventQueries {
  const audit = sqliteAuditStore(db);
  const list = sqliteEventList(sqlite);
  const recent = sqliteRecentEvents(sqlite);
  return {
    async list(orgId, filter) {
      return list(orgId, filter);
    },
    async recent(orgId, sourceId, limit) {
      return recent(orgId, sourceId, limit);
    },
    async get(orgId, id) {
      const e = db
        .select()
        .from(events)
        .where(and(eq(events.orgId, orgId), eq(events.id, id)))
        .get();
      if (!e) return undefined;
      const jobRows = await deliveries.ofEvent(orgId, id);
      const attempts = db
        .select()
        .from(deliveryAttempts)
        .where(and(eq(deliveryAttempts.orgId, orgId), eq(deliveryAttempts.eventId, id)))
        .orderBy(asc(deliveryAttempts.id))
        .all();
      const history = (await audit.list(orgId, { eventId: id, limit: 500 })).items.reverse();
      return eventDetail(e, jobRows, attempts, history);
    },
    async replay(orgId, id, entry) {
      return db.transaction((tx) => {
        const row = tx
          .update(events)
          .set({ state: 'pending', replays: sql`${events.replays} + 1` })
          .where(and(eq(events.orgId, orgId), eq(events.id, id)))
          .returning({ replays: events.replays })
          .get();
        if (!row) return undefined;
        appendAudit(tx, { ...entry, detail: { ...entry.detail, replay: row.replays } });
        return row.replays;
      });
    },
  };
}
