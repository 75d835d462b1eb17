import { and, asc, desc, eq, gt, gte, inArray, isNotNull, lt, type SQL, sql } from 'drizzle-orm';
import type { PgDb, PgTx } from '../db/pg/client.js';
import { insertSql } from '../db/pg/insert-rows.js';
import { auditCheckpoints, auditHeads, auditLog } from '../db/pg/schema.js';
import { idFloor } from '../lib/ids.js';
import type { Checkpoint } from './chain.js';
import {
  type AuditRow,
  type AuditStore,
  type ChainStore,
  chainedRow,
  chainItem,
  type ExportRow,
} from './store.js';
import type { AuditEntry, AuditFilter, AuditItem } from './types.js';

/**
 * Holds the org's chain until the transaction ends (re-entrant: `appendAuditPg` takes it again).
 * A writer that rewrites the org's chain itself (the uninstall purge) takes it first, so appends
 * of other instances wait for it and then chain onto what it left, instead of deadlocking on the
 * head row or chaining onto a head it deleted.
 */
export async function lockAuditChain(tx: PgTx, orgId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${orgId}, 0))`);
}

/**
 * The PostgreSQL twin of `appendAudit`: one audit row inside the caller's transaction, chained to
 * its org's head. Several instances write the same org's log, so each append first takes a
 * transaction-scoped advisory lock on the org: its writers queue up there, one at a time, and the
 * chain can never fork (two rows on one head). Other orgs are not held up.
 */
export async function appendAuditPg(tx: PgTx, entry: AuditEntry): Promise<string> {
  await lockAuditChain(tx, entry.orgId);
  const [head] = await tx
    .select({ seq: auditHeads.seq, hash: auditHeads.hash })
    .from(auditHeads)
    .where(eq(auditHeads.orgId, entry.orgId));
  const row = chainedRow(entry, head);
  await tx.insert(auditLog).values(row);
  await tx
    .insert(auditHeads)
    .values({ orgId: entry.orgId, seq: row.seq, hash: row.hash })
    .onConflictDoUpdate({ target: auditHeads.orgId, set: { seq: row.seq, hash: row.hash } });
  return row.id;
}

/**
 * Many audit rows in the caller's transaction with one insert: the group commits' rows (ingest's
 * `event.received`, settled runs'). Orgs are locked in sorted order (as every batch writer does, so
 * two never deadlock), each org's rows chain one after the other in the order given.
 */
export async function appendAuditManyPg(tx: PgTx, entries: readonly AuditEntry[]): Promise<string[]> {
  if (entries.length === 0) return [];
  const orgs = [...new Set(entries.map((e) => e.orgId))].sort();
  // Every org's lock in one statement, in sorted order (the set function hands them over in order):
  // a lock statement an org was 2.5 statements an event with 40 orgs busy.
  await tx.execute(
    sql`select count(pg_advisory_xact_lock(hashtextextended(o, 0)))::int
      from jsonb_array_elements_text(${JSON.stringify(orgs)}::jsonb) o`,
  );
  const heads = new Map<string, { seq: number; hash: string }>(
    (
      await tx
        .select({ orgId: auditHeads.orgId, seq: auditHeads.seq, hash: auditHeads.hash })
        .from(auditHeads)
        .where(inArray(auditHeads.orgId, orgs))
    ).map((h) => [h.orgId, h]),
  );
  const rows = entries.map((e) => {
    const row = chainedRow(e, heads.get(e.orgId));
    heads.set(e.orgId, { seq: row.seq, hash: row.hash });
    return row;
  });
  // The rows and the heads they move in one statement: the orgs' locks are held until the commit,
  // and each round trip under them held up every other batch of the same orgs (ingest,
  // processing and settles all write to most orgs' chains).
  const moved = orgs.map((orgId) => ({ org_id: orgId, ...heads.get(orgId)! }));
  await tx.execute(sql`
    with rows as (${insertSql(auditLog, rows)})
    insert into audit_heads (org_id, seq, hash)
    select t.org_id, t.seq, t.hash
    from jsonb_to_recordset(${JSON.stringify(moved)}::jsonb) as t(org_id text, seq bigint, hash text)
    on conflict (org_id) do update set seq = excluded.seq, hash = excluded.hash`);
  return rows.map((r) => r.id);
}

/** The PostgreSQL twin of `sqliteAuditStore`: the same filters, keyset and order. */
export function pgAuditStore(db: PgDb): AuditStore {
  return {
    async list(orgId, f) {
      const where = conditions(orgId, f);
      if (f.before !== undefined) where.push(lt(auditLog.id, f.before));
      const rows = await db
        .select()
        .from(auditLog)
        .where(and(...where))
        .orderBy(desc(auditLog.id))
        .limit(f.limit + 1);
      return { items: rows.slice(0, f.limit).map(toItem), more: rows.length > f.limit };
    },
    async exportPage(orgId, f, after, limit) {
      const where = conditions(orgId, f);
      if (after !== undefined) where.push(gt(auditLog.id, after));
      const rows = await db
        .select()
        .from(auditLog)
        .where(and(...where))
        .orderBy(asc(auditLog.id))
        .limit(limit);
      return rows.map(
        (r): ExportRow => [
          r.id,
          r.at,
          r.kind,
          r.actor,
          r.sourceId,
          r.eventId,
          r.ruleIds,
          r.conversationId,
          r.participantId,
          r.outcome,
          r.detail,
          r.seq,
          r.hash,
        ],
      );
    },
  };
}

/**
 * The filters of `conditions` in store.ts (copied, not shared: that file is being reworked), in
 * PostgreSQL's dialect: `rule_ids` is JSON text, so a rule filter is jsonb containment.
 */
function conditions(orgId: string, f: Omit<AuditFilter, 'limit' | 'before'>): SQL[] {
  const where: SQL[] = [eq(auditLog.orgId, orgId)];
  if (f.kinds?.length) where.push(inArray(auditLog.kind, f.kinds));
  if (f.outcome !== undefined) where.push(eq(auditLog.outcome, f.outcome));
  if (f.conversationId !== undefined) where.push(eq(auditLog.conversationId, f.conversationId));
  if (f.sourceId !== undefined) where.push(eq(auditLog.sourceId, f.sourceId));
  if (f.eventId !== undefined) where.push(eq(auditLog.eventId, f.eventId));
  if (f.ruleId !== undefined) {
    where.push(sql`${auditLog.ruleIds}::jsonb @> jsonb_build_array(${f.ruleId}::text)`);
  }
  // Ids carry their row's time: a time range is also a range on the (org_id, id) index (see store.ts).
  if (f.from !== undefined) where.push(gte(auditLog.at, f.from), gte(auditLog.id, idFloor('aud', f.from)));
  if (f.to !== undefined) where.push(lt(auditLog.at, f.to), lt(auditLog.id, idFloor('aud', f.to + 60_000)));
  return where;
}

/**
 * An item as `toItem` in store.ts makes it (same keys, same order), from `chainItem`'s fields: they
 * are that item's fields parsed from the row (typed `unknown` there because the hash covers them).
 */
function toItem(r: AuditRow): AuditItem {
  const { seq: _chained, ...base } = chainItem(r);
  return { ...base, seq: r.seq, hash: r.hash } as AuditItem;
}

/** The PostgreSQL twin of `sqliteChainStore`. */
export function pgChainStore(db: PgDb): ChainStore {
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
      return db.select().from(auditHeads);
    },
    async head(orgId) {
      const [r] = await db
        .select({ seq: auditHeads.seq, hash: auditHeads.hash })
        .from(auditHeads)
        .where(eq(auditHeads.orgId, orgId));
      return r;
    },
    async checkpoints(orgId, fromSeq = 0) {
      const rows = await db
        .select()
        .from(cp)
        .where(and(eq(cp.orgId, orgId), gte(cp.seq, fromSeq)))
        .orderBy(asc(cp.seq));
      return rows.map(toCheckpoint);
    },
    async addCheckpoint(c, at) {
      await db
        .insert(cp)
        .values({ orgId: c.orgId, seq: c.seq, hash: c.hash, at, signature: c.signature, kid: c.kid })
        .onConflictDoNothing();
    },
    async dropCheckpointsBefore(orgId, seq) {
      await db.delete(cp).where(and(eq(cp.orgId, orgId), lt(cp.seq, seq)));
    },
    async lastRowBefore(orgId, idBelow) {
      const [r] = await db
        .select({ seq: auditLog.seq, hash: auditLog.hash })
        .from(auditLog)
        .where(and(eq(auditLog.orgId, orgId), lt(auditLog.id, idBelow), isNotNull(auditLog.seq)))
        .orderBy(desc(auditLog.id))
        .limit(1);
      return r as { seq: number; hash: string } | undefined;
    },
    async rowAt(orgId, seq) {
      const [r] = await db
        .select({ seq: auditLog.seq, hash: auditLog.hash })
        .from(auditLog)
        .where(and(eq(auditLog.orgId, orgId), eq(auditLog.seq, seq)));
      return r as { seq: number; hash: string } | undefined;
    },
    async chainPage(orgId, afterSeq, limit) {
      return db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.orgId, orgId), gt(auditLog.seq, afterSeq)))
        .orderBy(asc(auditLog.seq))
        .limit(limit);
    },
    async firstSeqFrom(orgId, at) {
      const [r] = await db
        .select({ seq: auditLog.seq })
        .from(auditLog)
        .where(and(eq(auditLog.orgId, orgId), gte(auditLog.at, at), isNotNull(auditLog.seq)))
        .orderBy(asc(auditLog.seq))
        .limit(1);
      return r?.seq ?? undefined;
    },
  };
}
