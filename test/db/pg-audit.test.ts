import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainWalk } from '../../src/audit/chain.js';
import { appendAuditPg } from '../../src/audit/pg-store.js';
import { chainItem } from '../../src/audit/store.js';
import type { PgDatabase } from '../../src/db/pg/client.js';
import { auditHeads, auditLog, auditRuleIds } from '../../src/db/pg/schema.js';
import { startPgDatabase } from '../helpers/pg-db.js';

/** On PostgreSQL, many writers of one org's audit log at once still make one unforked chain. */
let pg: Awaited<ReturnType<typeof startPgDatabase>>;
let database: PgDatabase;
beforeAll(async () => {
  pg = await startPgDatabase();
  database = pg.database;
});
afterAll(() => pg?.close());

const entry = (orgId: string, n: number) => ({
  orgId,
  at: Date.parse('2026-11-25T12:00:00Z') + n,
  kind: 'event.received' as const,
  actor: { type: 'system' as const, job: `job_${n}` },
  outcome: 'accepted',
  detail: { n },
});

describe('appendAuditPg', () => {
  it('80 concurrent transactions over 4 connections append 1..80 to one chain that verifies', async () => {
    const org = 'org-concurrent';
    await Promise.all(
      Array.from({ length: 80 }, (_, n) => database.db.transaction((tx) => appendAuditPg(tx, entry(org, n)))),
    );
    const rows = await database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.orgId, org))
      .orderBy(asc(auditLog.seq));
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 80 }, (_, n) => n + 1));
    const walk = new ChainWalk(org, undefined, {}, []);
    for (const r of rows) walk.row(chainItem(r), r.hash);
    expect(walk.firstMismatch).toBeUndefined();
    const [head] = await database.db.select().from(auditHeads).where(eq(auditHeads.orgId, org));
    expect(head).toMatchObject({ seq: 80, hash: rows.at(-1)!.hash });
  });

  it('a row whose transaction rolls back leaves no trace in the chain', async () => {
    const org = 'org-rollback';
    await database.db.transaction((tx) => appendAuditPg(tx, entry(org, 1)));
    await expect(
      database.db.transaction(async (tx) => {
        await appendAuditPg(tx, entry(org, 2));
        throw new Error('the change it records failed');
      }),
    ).rejects.toThrow('the change it records failed');
    await database.db.transaction((tx) => appendAuditPg(tx, entry(org, 3)));
    const rows = await database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.orgId, org))
      .orderBy(asc(auditLog.seq));
    expect(rows.map((r) => [r.seq, JSON.parse(r.detail!).n])).toEqual([
      [1, 1],
      [2, 3],
    ]);
  });

  it('audit_rule_ids follows the rows by trigger, as on SQLite: one per rule named, gone with the row', async () => {
    const org = 'org-rules';
    const id = await database.db.transaction((tx) =>
      appendAuditPg(tx, { ...entry(org, 1), ruleIds: ['rule_a', 'rule_b', 'rule_a'] }),
    );
    const ruleRows = () =>
      database.db
        .select()
        .from(auditRuleIds)
        .where(eq(auditRuleIds.orgId, org))
        .orderBy(asc(auditRuleIds.ruleId));
    expect(await ruleRows()).toEqual([
      { orgId: org, ruleId: 'rule_a', auditId: id },
      { orgId: org, ruleId: 'rule_b', auditId: id },
    ]);
    await database.db.delete(auditLog).where(eq(auditLog.id, id));
    expect(await ruleRows()).toEqual([]);
  });
});
