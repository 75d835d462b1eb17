import { and, asc, desc, eq, gt, gte, inArray, isNotNull, isNull, lt, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { Db, Tx } from '../db/client.js';
import { auditCheckpoints, auditHeads, auditLog, auditRuleIds } from '../db/schema.js';
import { idFloor, newId } from '../lib/ids.js';
import { storableText } from '../lib/text.js';
import { type ChainItem, type Checkpoint, genesisHash, rowHash } from './chain.js';
import type { AuditEntry, AuditFilter, AuditItem } from './types.js';

type Head = { seq: number; hash: string } | undefined;

/**
 * The row an entry becomes in its org's hash chain after `head`: the JSON columns as stored, and
 * the seq and hash that chain it (src/audit/chain.ts says what the hash covers).
 */
export function chainedRow(e: AuditEntry, head: Head) {
  const row = {
    id: newId('aud', e.at),
    orgId: e.orgId,
    at: e.at,
    kind: e.kind,
    actor: JSON.stringify(e.actor),
    sourceId: e.sourceId ?? null,
    eventId: e.eventId ?? null,
    ruleIds: e.ruleIds?.length ? JSON.stringify(e.ruleIds) : null,
    // Taken from events: hashed as they will be stored and read back (see storableText).
    conversationId: e.conversationId === undefined ? null : storableText(e.conversationId),
    participantId: e.participantId === undefined ? null : storableText(e.participantId),
    outcome: e.outcome ?? null,
    detail: e.detail ? JSON.stringify(e.detail) : null,
    seq: (head?.seq ?? 0) + 1,
    hash: '',
  };
  // Hashed as it will be read back (parsed from its stored text), so verifying recomputes it exactly.
  row.hash = rowHash(head?.hash ?? genesisHash(e.orgId), chainItem(row));
  return row;
}

/** The fields a row's hash covers, from the row as stored. */
export function chainItem(r: StoredRow & { seq: number | null }): ChainItem {
  return { seq: r.seq ?? 0, ...baseItem(r) };
}

/**
 * Appends one audit row inside the caller's transaction (fail-closed: if it throws, the change it
 * records rolls back with it), chained to its org's head. The only writer of `audit_log` besides
 * the staging store's moves, retention and the purge.
 */
export function appendAudit(tx: Db | Tx, entry: AuditEntry): string {
  const head = tx
    .select({ seq: auditHeads.seq, hash: auditHeads.hash })
    .from(auditHeads)
    .where(eq(auditHeads.orgId, entry.orgId))
    .get();
  const row = chainedRow(entry, head);
  tx.insert(auditLog).values(row).run();
  tx.insert(auditHeads)
    .values({ orgId: entry.orgId, seq: row.seq, hash: row.hash })
    .onConflictDoUpdate({ target: auditHeads.orgId, set: { seq: row.seq, hash: row.hash } })
    .run();
  return row.id;
}

export type AuditRow = typeof auditLog.$inferSelect;

export interface AuditStore {
  /** Newest first; `nextCursor` is the last item's id when more may follow. */
  list(orgId: string, filter: AuditFilter): Promise<{ items: AuditItem[]; more: boolean }>;
  /**
   * Oldest first, after the row `after`: the export's pages. Rows as stored (JSON columns as
   * text), as tuples in `ExportRow` order: no object per row.
   */
  exportPage(
    orgId: string,
    filter: Omit<AuditFilter, 'limit' | 'before'>,
    after: string | undefined,
    limit: number,
  ): Promise<ExportRow[]>;
}

/** An exported row: the columns of `ROW`, in its order. */
export type ExportRow = [
  id: string,
  at: number,
  kind: string,
  actor: string,
  sourceId: string | null,
  eventId: string | null,
  ruleIds: string | null,
  conversationId: string | null,
  participantId: string | null,
  outcome: string | null,
  detail: string | null,
  seq: number | null,
  hash: string | null,
];

/** The columns the list and the export read (all but org_id), in `ExportRow` order. */
const ROW = {
  id: auditLog.id,
  at: auditLog.at,
  kind: auditLog.kind,
  actor: auditLog.actor,
  sourceId: auditLog.sourceId,
  eventId: auditLog.eventId,
  ruleIds: auditLog.ruleIds,
  conversationId: auditLog.conversationId,
  participantId: auditLog.participantId,
  outcome: auditLog.outcome,
  detail: auditLog.detail,
  seq: auditLog.seq,
  hash: auditLog.hash,
};

type Filter = Omit<AuditFilter, 'limit' | 'before'>;

export function sqliteAuditStore(db: Db): AuditStore {
  return {
    async list(orgId, f) {
      const rows = matching(db, orgId, f, 'desc', f.before, f.limit + 1).all();
      return { items: rows.slice(0, f.limit).map(toItem), more: rows.length > f.limit };
    },
    async exportPage(orgId, f, after, limit) {
      // Raw rows: drizzle's mapping to objects was 8% of an export's time (CPU profile, 5M rows).
      return matching(db, orgId, f, 'asc', after, limit).values() as ExportRow[];
    },
  };
}

/**
 * The org's rows matching `f`, in id order from `cursor` (exclusive), at most `limit`. A ruleId
 * filter walks audit_rule_ids' (org, rule, id) key and looks each row up; CROSS JOIN keeps that
 * order, which SQLite's planner otherwise turned round (112 ms for a common rule on a 5M-row log).
 */
function matching(
  db: Db,
  orgId: string,
  f: Filter,
  order: 'asc' | 'desc',
  cursor: string | undefined,
  limit: number,
) {
  const r = auditRuleIds;
  const key = f.ruleId === undefined ? auditLog.id : r.auditId;
  const where = conditions(orgId, f);
  if (cursor !== undefined) where.push(order === 'asc' ? gt(key, cursor) : lt(key, cursor));
  const by = order === 'asc' ? asc(key) : desc(key);
  if (f.ruleId === undefined)
    return db
      .select(ROW)
      .from(auditLog)
      .where(and(...where))
      .orderBy(by)
      .limit(limit);
  where.push(
    eq(r.orgId, orgId),
    eq(r.ruleId, f.ruleId),
    eq(auditLog.id, r.auditId),
    ...idRange(r.auditId, f),
  );
  return db
    .select(ROW)
    .from(r)
    .crossJoin(auditLog)
    .where(and(...where))
    .orderBy(by)
    .limit(limit);
}

/** The filters on audit_log's own columns, always inside one org (ruleId: see `matching`). */
function conditions(orgId: string, f: Filter): SQL[] {
  const where: SQL[] = [eq(auditLog.orgId, orgId)];
  if (f.kinds?.length) where.push(inArray(auditLog.kind, f.kinds));
  if (f.outcome !== undefined) where.push(eq(auditLog.outcome, f.outcome));
  if (f.conversationId !== undefined) where.push(eq(auditLog.conversationId, f.conversationId));
  if (f.sourceId !== undefined) where.push(eq(auditLog.sourceId, f.sourceId));
  if (f.eventId !== undefined) where.push(eq(auditLog.eventId, f.eventId));
  if (f.from !== undefined) where.push(gte(auditLog.at, f.from));
  if (f.to !== undefined) where.push(lt(auditLog.at, f.to));
  return [...where, ...idRange(auditLog.id, f)];
}

/**
 * Ids carry their row's time (never earlier than `at`), so a time range is also a seek on an id
 * index instead of a walk back from the newest row (65 ms on a 5M-row log). The upper bound
 * leaves a minute for a row whose id was made after its `at`.
 */
function idRange(id: SQLiteColumn, f: Filter): SQL[] {
  const range: SQL[] = [];
  if (f.from !== undefined) range.push(gte(id, idFloor('aud', f.from)));
  if (f.to !== undefined) range.push(lt(id, idFloor('aud', f.to + 60_000)));
  return range;
}

function toItem(r: Omit<AuditRow, 'orgId'>): AuditItem {
  return { ...baseItem(r), seq: r.seq, hash: r.hash };
}

type StoredRow = Omit<AuditRow, 'orgId' | 'seq' | 'hash'>;

function baseItem(r: StoredRow): Omit<AuditItem, 'seq' | 'hash'> {
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
 * The same append as `appendAudit`, as prepared statements for hot paths (ingest writes an
 * `event.received` row per event), into `audit_staged` (staging-store.ts). A savepoint inside the
 * caller's transaction (a transaction of its own otherwise), so the row and its chain head move
 * together.
 */
export function preparedAuditAppend(
  sqlite: import('better-sqlite3').Database,
): (entry: AuditEntry) => string {
  const head = sqlite.prepare('select seq, hash from audit_heads where org_id = ?');
  // Staged: moved into audit_log about once a second, many rows of an org at once (staging-store.ts).
  const insert = sqlite.prepare(
    `insert into audit_staged (id, org_id, at, kind, actor, source_id, event_id, rule_ids, conversation_id,
       participant_id, outcome, detail, seq, hash) values (@id, @orgId, @at, @kind, @actor, @sourceId, @eventId,
       @ruleIds, @conversationId, @participantId, @outcome, @detail, @seq, @hash)`,
  );
  const move = sqlite.prepare(
    `insert into audit_heads (org_id, seq, hash) values (?, ?, ?)
     on conflict (org_id) do update set seq = excluded.seq, hash = excluded.hash`,
  );
  const append = (e: AuditEntry) => {
    const row = chainedRow(e, head.get(e.orgId) as Head);
    insert.run(row);
    move.run(e.orgId, row.seq, row.hash);
    return row.id;
  };
  const alone = sqlite.transaction(append);
  // Inside the caller's transaction already (the hot paths): no savepoint of its own.
  return (e) => (sqlite.inTransaction ? append(e) : alone(e));
}

/**
 * Rows written before the hash chain existed (no `seq`) are chained once, at start, oldest first
 * and in batches, so every org's log verifies from its first row. Returns how many were chained.
 */
export function backfillChains(db: Db): number {
  let total = 0;
  const orgs = db.selectDistinct({ orgId: auditLog.orgId }).from(auditLog).where(isNull(auditLog.seq)).all();
  for (const { orgId } of orgs) {
    for (;;) {
      const n = db.transaction((tx) => {
        const rows = tx
          .select()
          .from(auditLog)
          .where(and(eq(auditLog.orgId, orgId), isNull(auditLog.seq)))
          .orderBy(asc(auditLog.id))
          .limit(1_000)
          .all();
        let head = tx
          .select({ seq: auditHeads.seq, hash: auditHeads.hash })
          .from(auditHeads)
          .where(eq(auditHeads.orgId, orgId))
          .get();
        for (const r of rows) {
          const seq = (head?.seq ?? 0) + 1;
          const hash = rowHash(head?.hash ?? genesisHash(orgId), chainItem({ ...r, seq }));
          tx.update(auditLog).set({ seq, hash }).where(eq(auditLog.id, r.id)).run();
          head = { seq, hash };
        }
        if (head) {
          tx.insert(auditHeads)
            .values({ orgId, ...head })
            .onConflictDoUpdate({ target: auditHeads.orgId, set: head })
            .run();
        }
        return rows.length;
      });
      total += n;
      if (n < 1_000) break;
    }
  }
  return total;
}

/** The chain's own bookkeeping: heads, checkpoints, and rows in chain order. */
export interface ChainStore {
  heads(): Promise<Array<{ orgId: string; seq: number; hash: string }>>;
  head(orgId: string): Promise<{ seq: number; hash: string } | undefined>;
  /** The org's checkpoints from `fromSeq` on (all when absent), oldest first. */
  checkpoints(orgId: string, fromSeq?: number): Promise<Checkpoint[]>;
  addCheckpoint(c: Checkpoint, at: number): Promise<void>;
  /** Checkpoints older than the one that anchors the first kept row go with the rows. */
  dropCheckpointsBefore(orgId: string, seq: number): Promise<void>;
  /** The newest row made before the cut (ids carry their time): a retention anchor. */
  lastRowBefore(orgId: string, idBelow: string): Promise<{ seq: number; hash: string } | undefined>;
  rowAt(orgId: string, seq: number): Promise<{ seq: number; hash: string } | undefined>;
  /** Rows after `afterSeq`, in chain order. */
  chainPage(orgId: string, afterSeq: number, limit: number): Promise<AuditRow[]>;
  /** The first row of the org at or after `at` (ms), in chain order. */
  firstSeqFrom(orgId: string, at: number): Promise<number | undefined>;
}

export function sqliteChainStore(db: Db): ChainStore {
  const cp = auditCheckpoints;
  const toCheckpoint = (r: typeof cp.$inferSelect): Checkpoint => ({
    orgId: r.orgId,
    seq: r.seq,
    hash: r.hash,
    at: new Date(r.at).toISOString(),
    signature: r.signature,
    kid: r.kid,
  });
  return {
    async heads() {
      return db.select().from(auditHeads).all();
    },
    async head(orgId) {
      return db
        .select({ seq: auditHeads.seq, hash: auditHeads.hash })
        .from(auditHeads)
        .where(eq(auditHeads.orgId, orgId))
        .get();
    },
    async checkpoints(orgId, fromSeq = 0) {
      return db
        .select()
        .from(cp)
        .where(and(eq(cp.orgId, orgId), gte(cp.seq, fromSeq)))
        .orderBy(asc(cp.seq))
        .all()
        .map(toCheckpoint);
    },
    async addCheckpoint(c, at) {
      db.insert(cp)
        .values({ orgId: c.orgId, seq: c.seq, hash: c.hash, at, signature: c.signature, kid: c.kid })
        .onConflictDoNothing()
        .run();
    },
    async dropCheckpointsBefore(orgId, seq) {
      db.delete(cp)
        .where(and(eq(cp.orgId, orgId), lt(cp.seq, seq)))
        .run();
    },
    async lastRowBefore(orgId, idBelow) {
      return db
        .select({ seq: auditLog.seq, hash: auditLog.hash })
        .from(auditLog)
        .where(and(eq(auditLog.orgId, orgId), lt(auditLog.id, idBelow), isNotNull(auditLog.seq)))
        .orderBy(desc(auditLog.id))
        .limit(1)
        .get() as { seq: number; hash: string } | undefined;
    },
    async rowAt(orgId, seq) {
      return db
        .select({ seq: auditLog.seq, hash: auditLog.hash })
        .from(auditLog)
        .where(and(eq(auditLog.orgId, orgId), eq(auditLog.seq, seq)))
        .get() as { seq: number; hash: string } | undefined;
    },
    async chainPage(orgId, afterSeq, limit) {
      return db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.orgId, orgId), gt(auditLog.seq, afterSeq)))
        .orderBy(asc(auditLog.seq))
        .limit(limit)
        .all();
    },
    async firstSeqFrom(orgId, at) {
      const r = db
        .select({ seq: auditLog.seq })
        .from(auditLog)
        .where(and(eq(auditLog.orgId, orgId), gte(auditLog.at, at), isNotNull(auditLog.seq)))
        .orderBy(asc(auditLog.seq))
        .limit(1)
        .get();
      return r?.seq ?? undefined;
    },
  };
}
