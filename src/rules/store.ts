import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { appendAudit } from '../audit/store.js';
import type { Actor, AuditEntry } from '../audit/types.js';
import type { Db } from '../db/client.js';
import { rules, ruleVersions } from '../db/schema.js';
import type { RuleBody } from './schemas.js';

export interface StoredRule {
  id: string;
  version: number;
  createdAt: number;
  updatedAt: number;
  body: RuleBody;
}

export interface RuleVersionInfo {
  version: number;
  createdAt: number;
  createdBy: Actor;
}

/**
 * Rules and their versions, scoped by org. Each save writes a new version row (never an update
 * of an old one) and its audit row in one transaction.
 */
export interface RuleStore {
  create(
    orgId: string,
    id: string,
    body: RuleBody,
    now: number,
    actor: Actor,
    audit: AuditEntry,
  ): Promise<StoredRule>;
  /** The next version, or undefined when the rule does not exist (or was deleted) in the org. */
  update(
    orgId: string,
    id: string,
    body: RuleBody,
    now: number,
    actor: Actor,
    audit: (version: number) => AuditEntry,
  ): Promise<StoredRule | undefined>;
  /** Marks it deleted (its versions stay readable); false when there was nothing to delete. */
  delete(orgId: string, id: string, now: number, audit: (version: number) => AuditEntry): Promise<boolean>;
  get(orgId: string, id: string): Promise<StoredRule | undefined>;
  list(orgId: string): Promise<StoredRule[]>;
  /** Versions of a rule of the org, deleted or not; undefined when the org never had it. */
  versions(orgId: string, id: string): Promise<RuleVersionInfo[] | undefined>;
  version(
    orgId: string,
    id: string,
    version: number,
  ): Promise<(RuleVersionInfo & { body: RuleBody }) | undefined>;
  /**
   * Each org's stamp, which changes whenever any rule of the org is created, saved or deleted (for
   * caches): one query for the orgs of a processing batch, not one each.
   */
  stamps(orgIds: readonly string[]): Promise<Map<string, string>>;
}

/** Each org's stamp from its rules' counts (an org without rules has none: 0:0:0). */
export function stampsOf(
  orgIds: readonly string[],
  rows: ReadonlyArray<{
    orgId: string;
    n: number | string;
    versions: number | string | null;
    deleted: number | string;
  }>,
): Map<string, string> {
  const stamps = new Map(orgIds.map((orgId) => [orgId, '0:0:0']));
  for (const r of rows) stamps.set(r.orgId, `${r.n}:${r.versions ?? 0}:${r.deleted}`);
  return stamps;
}

export function sqliteRuleStore(db: Db): RuleStore {
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
      db.transaction((tx) => {
        tx.insert(rules).values({ id, orgId, currentVersion: 1, createdAt: now, updatedAt: now }).run();
        tx.insert(ruleVersions)
          .values({
            ruleId: id,
            version: 1,
            orgId,
            body: JSON.stringify(body),
            createdAt: now,
            createdBy: JSON.stringify(actor),
          })
          .run();
        appendAudit(tx, audit);
      });
      return { id, version: 1, createdAt: now, updatedAt: now, body };
    },
    async update(orgId, id, body, now, actor, audit) {
      return db.transaction((tx) => {
        const row = tx
          .select()
          .from(rules)
          .where(and(eq(rules.orgId, orgId), eq(rules.id, id), isNull(rules.deletedAt)))
          .get();
        if (!row) return undefined;
        const version = row.currentVersion + 1;
        tx.insert(ruleVersions)
          .values({
            ruleId: id,
            version,
            orgId,
            body: JSON.stringify(body),
            createdAt: now,
            createdBy: JSON.stringify(actor),
          })
          .run();
        tx.update(rules).set({ currentVersion: version, updatedAt: now }).where(eq(rules.id, id)).run();
        appendAudit(tx, audit(version));
        return { id, version, createdAt: row.createdAt, updatedAt: now, body };
      });
    },
    async delete(orgId, id, now, audit) {
      return db.transaction((tx) => {
        const row = tx
          .update(rules)
          .set({ deletedAt: now, updatedAt: now })
          .where(and(eq(rules.orgId, orgId), eq(rules.id, id), isNull(rules.deletedAt)))
          .returning({ version: rules.currentVersion })
          .get();
        if (!row) return false;
        appendAudit(tx, audit(row.version));
        return true;
      });
    },
    async get(orgId, id) {
      const row = current(orgId, id).get();
      return row ? toRule(row) : undefined;
    },
    async list(orgId) {
      return current(orgId).all().map(toRule);
    },
    async versions(orgId, id) {
      const rows = db
        .select({
          version: ruleVersions.version,
          createdAt: ruleVersions.createdAt,
          createdBy: ruleVersions.createdBy,
        })
        .from(ruleVersions)
        .where(and(eq(ruleVersions.orgId, orgId), eq(ruleVersions.ruleId, id)))
        .orderBy(asc(ruleVersions.version))
        .all();
      if (rows.length === 0) return undefined;
      return rows.map((r) => ({ ...r, createdBy: JSON.parse(r.createdBy) as Actor }));
    },
    async stamps(orgIds) {
      // Every create adds a row, every save adds a version, every delete adds a deletion.
      const rows = db
        .select({
          orgId: rules.orgId,
          n: sql<number>`count(*)`,
          versions: sql<number | null>`sum(${rules.currentVersion})`,
          deleted: sql<number>`count(${rules.deletedAt})`,
        })
        .from(rules)
        .where(inArray(rules.orgId, [...orgIds]))
        .groupBy(rules.orgId)
        .all();
      return stampsOf(orgIds, rows);
    },
    async version(orgId, id, version) {
      const r = db
        .select()
        .from(ruleVersions)
        .where(
          and(eq(ruleVersions.orgId, orgId), eq(ruleVersions.ruleId, id), eq(ruleVersions.version, version)),
        )
        .get();
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
