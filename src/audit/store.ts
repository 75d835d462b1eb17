import { and, asc, desc, eq, gt, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { auditLog } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import type { AuditEntry, AuditFilter, AuditItem } from './types.js';

/**
 * Appends one audit row inside the caller's transaction (fail-closed: if it throws, the change it
 * records rolls back with it). The only writer of `audit_log` besides retention and the purge.
 */
export function appendAudit(tx: Db | Tx, entry: AuditEntry): string {
  const id = newId('aud', entry.at);
  tx.insert(auditLog)
    .values({
      id,
      orgId: entry.orgId,
      at: entry.at,
      kind: entry.kind,
      actor: JSON.stringify(entry.actor),
      sourceId: entry.sourceId ?? null,
      eventId: entry.eventId ?? null,
      ruleIds: entry.ruleIds?.length ? JSON.stringify(entry.ruleIds) : null,
      conversationId: entry.conversationId ?? null,
      participantId: entry.participantId ?? null,
      outcome: entry.outcome ?? null,
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
    })
    .run();
  return id;
}

export type AuditRow = typeof auditLog.$inferSelect;

export interface AuditStore {
  /** Newest first; `nextCursor` is the last item's id when more may follow. */
  list(orgId: string, filter: AuditFilter): Promise<{ items: AuditItem[]; more: boolean }>;
  /** Oldest first, rows as stored (JSON columns as text), after the row `after`: the export's pages. */
  exportPage(
    orgId: string,
    filter: Omit<AuditFilter, 'limit' | 'before'>,
    after: string | undefined,
    limit: number,
  ): Promise<AuditRow[]>;
}

export function sqliteAuditStore(db: Db): AuditStore {
  return {
    async list(orgId, f) {
      const where = conditions(orgId, f);
      if (f.before !== undefined) where.push(lt(auditLog.id, f.before));
      const rows = db
        .select()
        .from(auditLog)
        .where(and(...where))
        .orderBy(desc(auditLog.id))
        .limit(f.limit + 1)
        .all();
      return { items: rows.slice(0, f.limit).map(toItem), more: rows.length > f.limit };
    },
    async exportPage(orgId, f, after, limit) {
      const where = conditions(orgId, f);
      if (after !== undefined) where.push(gt(auditLog.id, after));
      return db
        .select()
        .from(auditLog)
        .where(and(...where))
        .orderBy(asc(auditLog.id))
        .limit(limit)
        .all();
    },
  };
}

/** The filters of both the query and the export, always inside one org. */
function conditions(orgId: string, f: Omit<AuditFilter, 'limit' | 'before'>): SQL[] {
  const where: SQL[] = [eq(auditLog.orgId, orgId)];
  if (f.kinds?.length) where.push(inArray(auditLog.kind, f.kinds));
  if (f.outcome !== undefined) where.push(eq(auditLog.outcome, f.outcome));
  if (f.conversationId !== undefined) where.push(eq(auditLog.conversationId, f.conversationId));
  if (f.sourceId !== undefined) where.push(eq(auditLog.sourceId, f.sourceId));
  if (f.eventId !== undefined) where.push(eq(auditLog.eventId, f.eventId));
  if (f.ruleId !== undefined) {
    where.push(sql`exists (select 1 from json_each(${auditLog.ruleIds}) where value = ${f.ruleId})`);
  }
  if (f.from !== undefined) where.push(gte(auditLog.at, f.from));
  if (f.to !== undefined) where.push(lt(auditLog.at, f.to));
  return where;
}

function toItem(r: AuditRow): AuditItem {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    kind: r.kind,
    actor: JSON.parse(r.actor),
    sourceId: r.sourceId,
    eventId: r.eventId,
    ruleIds: r.ruleIds ? (JSON.parse(r.ruleIds) as string[]) : [],
    conversationId: r.conversationId,
    participantId: r.participantId,
    outcome: r.outcome,
    detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : {},
  };
}

/**
 * The same append as `appendAudit`, as one prepared statement for hot paths (ingest writes an
 * `event.received` row per event). Call it inside the caller's transaction.
 */
export function preparedAuditAppend(
  sqlite: import('better-sqlite3').Database,
): (entry: AuditEntry) => string {
  const insert = sqlite.prepare(
    `insert into audit_log (id, org_id, at, kind, actor, source_id, event_id, rule_ids, conversation_id,
       participant_id, outcome, detail) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return (e) => {
    const id = newId('aud', e.at);
    insert.run(
      id,
      e.orgId,
      e.at,
      e.kind,
      JSON.stringify(e.actor),
      e.sourceId ?? null,
      e.eventId ?? null,
      e.ruleIds?.length ? JSON.stringify(e.ruleIds) : null,
      e.conversationId ?? null,
      e.participantId ?? null,
      e.outcome ?? null,
      e.detail ? JSON.stringify(e.detail) : null,
    );
    return id;
  };
}
