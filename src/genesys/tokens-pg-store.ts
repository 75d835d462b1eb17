import { and, eq, sql } from 'drizzle-orm';
import type { PgDb, PgTx } from '../db/pg/client.js';
import { orgTokens } from '../db/pg/schema.js';
import type { SharedTokenStore, StoredTokenAccess } from './shared-tokens.js';

/**
 * The class of the two-key advisory locks that hold an org's token fetch (the second key is the
 * org id's hash): apart from the queue's lane locks (7412) and the one-key audit chain locks.
 */
const TOKEN_LOCK_CLASS = 7_413;

/**
 * Each org's access token in `org_tokens`, shared by every instance on the database. A fetch runs
 * in a transaction holding the org's advisory lock, so instances that need a new token at the same
 * moment take turns: the first fetches and writes, the others find its token when they get the
 * lock. The row holds the token sealed (the adapter in shared-tokens.ts seals and opens).
 */
export function pgSharedTokenStore(db: PgDb): SharedTokenStore {
  const on = (q: PgDb | PgTx): StoredTokenAccess => ({
    async read(orgId) {
      const [row] = await q
        .select({
          tokenSealed: orgTokens.tokenSealed,
          tokenHash: orgTokens.tokenHash,
          environment: orgTokens.environment,
          refreshAt: orgTokens.refreshAt,
          useUntil: orgTokens.useUntil,
        })
        .from(orgTokens)
        .where(eq(orgTokens.orgId, orgId));
      return row;
    },
    async write(orgId, t) {
      await q
        .insert(orgTokens)
        .values({ orgId, ...t })
        .onConflictDoUpdate({ target: orgTokens.orgId, set: { ...t } });
    },
  });
  const lock = (tx: PgTx, orgId: string) =>
    tx.execute(sql`select pg_advisory_xact_lock(${TOKEN_LOCK_CLASS}::int, hashtext(${orgId}))`);
  return {
    ...on(db),
    async drop(orgId, tokenHash) {
      if (tokenHash !== undefined) {
        await db.delete(orgTokens).where(and(eq(orgTokens.orgId, orgId), eq(orgTokens.tokenHash, tokenHash)));
        return;
      }
      // The grant changed: after any fetch under way (it may be writing the old grant's token).
      await db.transaction(async (tx) => {
        await lock(tx, orgId);
        await tx.delete(orgTokens).where(eq(orgTokens.orgId, orgId));
      });
    },
    withLock: (orgId, fn) =>
      db.transaction(async (tx) => {
        await lock(tx, orgId);
        return fn(on(tx));
      }),
  };
}
