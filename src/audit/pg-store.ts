import { eq, sql } from 'drizzle-orm';
import type { PgTx } from '../db/pg/client.js';
import { auditHeads, auditLog } from '../db/pg/schema.js';
import { chainedRow } from './store.js';
import type { AuditEntry } from './types.js';

/**
 * The PostgreSQL twin of `appendAudit`: one audit row inside the caller's transaction, chained to
 * its org's head. Several instances write the same org's log, so each append first takes a
 * transaction-scoped advisory lock on the org: its writers queue up there, one at a time, and the
 * chain can never fork (two rows on one head). Other orgs are not held up.
 */
export async function appendAuditPg(tx: PgTx, entry: AuditEntry): Promise<string> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${entry.orgId}, 0))`);
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
