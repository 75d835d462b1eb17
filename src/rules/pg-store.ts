import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { appendAuditPg } from '../audit/pg-store.js';
import type { Actor } from '../audit/types.js';
import type { PgDb } from '../db/pg/client.js';
import { rules, ruleVersions } from '../db/pg/schema.js';
import type { RuleBody } from './schemas.js';
import { type RuleStore, type StoredRule, stampsOf } from './store.js';

/**
 * The PostgreSQL twin of `sqliteRuleStore`. A save reads the rule `for update`, so two instances
 * saving one rule at once take turns and each writes its own next version (on SQLite the single
 * writer gives the same order).
 */
export function pgRuleStore(db: PgDb): RuleStore {
  const current = (orgId: string, id?: string) =>
    db
      .select({
        id: rules.id,
        version: rules.currentVersion,
        createdAt: rules.createdAt,
        updatedAt: rules.updatedAt,
        body: ruleVersions.body,
      })
      .from(rules)
      .innerJoin(
        ruleVersions,
        and(eq(ruleVersions.ruleId, rules.id), eq(ruleVersions.version, rules.currentVersion)),
      )
      .where(
        and(eq(rules.orgId, orgId), isNull(rules.deletedAt), id === undefined ? undefined : eq(rules.id, id)),
      )
      .orderBy(asc(rules.id));

  const toRule = (r: {
    id: string;
    version: number;
    createdAt: number;
    updatedAt: number;
    body: string;
  }): StoredRule => ({
    ...r,
    body: JSON.parse(r.body) as RuleBody,
  });

  return {
    async create(orgId, id, body, now, actor, audit) {
      await db.transaction(async (tx) => {
        await tx.insert(rules).values({ id, orgId, currentVersion: 1, createdAt: now, updatedAt: now });
        await tx.insert(ruleVersions).values({
          ruleId: id,
          version: 1,
          orgId,
          body: JSON.stringify(body),
          createdAt: now,
          createdBy: JSON.stringify(actor),
        });
        await appendAuditPg(tx, audit);
      });
      return { id, version: 1, createdAt: now, updatedAt: now, body };
    },
    async update(orgId, id, body, now, actor, audit) {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .select()
          .from(rules)
          .where(and(eq(rules.orgId, orgId), eq(rules.id, id), isNull(rules.deletedAt)))
          .for('update');
        if (!row) return undefined;
        const version = row.currentVersion + 1;
        await tx.insert(ruleVersions).values({
          ruleId: id,
          version,
          orgId,
          body: JSON.stringify(body),
          createdAt: now,
          createdBy: JSON.stringify(actor),
        });
        await tx.update(rules).set({ currentVersion: version, updatedAt: now }).where(eq(rules.id, id));
        await appendAuditPg(tx, audit(version));
        return { id, version, createdAt: row.createdAt, updatedAt: now, body };
      });
    },
    async delete(orgId, id, now, audit) {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(rules)
          .set({ deletedAt: now, updatedAt: now })
          .where(and(eq(rules.orgId, orgId), eq(rules.id, id), isNull(rules.deletedAt)))
          .returning({ version: rules.currentVersion });
        if (!row) return false;
        await appendAuditPg(tx, audit(row.version));
        return true;
      });
    },
    async get(orgId, id) {
      const [row] = await current(orgId, id);
      return row ? toRule(row) : undefined;
    },
    async list(orgId) {
      return (await current(orgId)).map(toRule);
    },
    async versions(orgId, id) {
      const rows = await db
        .select({
          version: ruleVersions.version,
          createdAt: ruleVersions.createdAt,
          createdBy: ruleVersions.createdBy,
        })
        .from(ruleVersions)
        .where(and(eq(ruleVersions.orgId, orgId), eq(ruleVersions.ruleId, id)))
        .orderBy(asc(ruleVersions.version));
      if (rows.length === 0) return undefined;
      return rows.map((r) => ({ ...r, createdBy: JSON.parse(r.createdBy) as Actor }));
    },
    async stamps(orgIds) {
      // As on SQLite: every create adds a row, every save a version, every delete a deletion.
      // The aggregates come back as text (bigint, numeric) and print the same as SQLite's integers.
      const rows = await db
        .select({
          orgId: rules.orgId,
          n: sql<string>`count(*)`,
          versions: sql<string | null>`sum(${rules.currentVersion})`,
          deleted: sql<string>`count(${rules.deletedAt})`,
        })
        .from(rules)
        .where(inArray(rules.orgId, [...orgIds]))
        .groupBy(rules.orgId);
      return stampsOf(orgIds, rows);
    },
    async version(orgId, id, version) {
      const [r] = await db
        .select()
        .from(ruleVersions)
        .where(
          and(eq(ruleVersions.orgId, orgId), eq(ruleVersions.ruleId, id), eq(ruleVersions.version, version)),
        );
      if (!r) return undefined;
      return {
        version: r.version,
        createdAt: r.createdAt,
        createdBy: JSON.parse(r.createdBy) as Actor,
        body: JSON.parse(r.body) as RuleBody,
      };
    },
  };
}
