import { createHash } from 'node:crypto';
import type { Sealer } from '../crypto/secrets.js';

/**
 * An org's access token as every instance of the relay sees it (PostgreSQL: `org_tokens`), so N
 * instances fetch one token per org, not N. Times are the fetching instance's: when to fetch the
 * next one, and when to stop using this one.
 */
export interface SharedToken {
  readonly token: string;
  readonly environment: string;
  readonly refreshAt: number;
  readonly useUntil: number;
}

/** Reads and writes of the shared row (inside `withLock`, on the lock's transaction). */
export interface SharedTokenAccess {
  read(orgId: string): Promise<SharedToken | undefined>;
  write(orgId: string, token: SharedToken): Promise<void>;
}

/** What `TokenCache` uses, on plain tokens (sealing is the adapter's business, below). */
export interface SharedTokens extends SharedTokenAccess {
  /**
   * Forgets the org's shared token. With `token`, only if it is still that one: the many 401s one
   * expired or revoked token causes on all instances end in one new token, not one each.
   */
  drop(orgId: string, token?: string): Promise<void>;
  /** Runs `fn` holding the org's token lock (one fetch at a time across instances). */
  withLock<T>(orgId: string, fn: (locked: SharedTokenAccess) => Promise<T>): Promise<T>;
}

/** The row as stored: the token sealed (org-bound, like a grant's secret), and its hash to drop by. */
export interface StoredToken {
  readonly tokenSealed: string;
  /** sha256 hex of the token. */
  readonly tokenHash: string;
  readonly environment: string;
  readonly refreshAt: number;
  readonly useUntil: number;
}

export interface StoredTokenAccess {
  read(orgId: string): Promise<StoredToken | undefined>;
  write(orgId: string, token: StoredToken): Promise<void>;
}

/** The backend's side (src/genesys/tokens-pg-store.ts); SQLite has none (one process, its own cache). */
export interface SharedTokenStore extends StoredTokenAccess {
  /** With `tokenHash`, only the row holding that token; without, whatever the org has. */
  drop(orgId: string, tokenHash?: string): Promise<void>;
  withLock<T>(orgId: string, fn: (locked: StoredTokenAccess) => Promise<T>): Promise<T>;
}

export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** The store's rows, sealed at rest and opened on read: a row that does not open counts as none. */
export function sealedSharedTokens(store: SharedTokenStore, sealer: Sealer): SharedTokens {
  const access = (rows: StoredTokenAccess): SharedTokenAccess => ({
    async read(orgId) {
      const row = await rows.read(orgId);
      if (!row) return undefined;
      let token: string;
      try {
        token = await sealer.open(orgId, row.tokenSealed);
      } catch {
        return undefined; // another key, or another org's row: fetch a new one (it overwrites this)
      }
      if (tokenHash(token) !== row.tokenHash) return undefined;
      const { environment, refreshAt, useUntil } = row;
      return { token, environment, refreshAt, useUntil };
    },
    async write(orgId, t) {
      await rows.write(orgId, {
        tokenSealed: await sealer.seal(orgId, t.token),
        tokenHash: tokenHash(t.token),
        environment: t.environment,
        refreshAt: t.refreshAt,
        useUntil: t.useUntil,
      });
    },
  });
  return {
    ...access(store),
    drop: (orgId, token) => store.drop(orgId, token === undefined ? undefined : tokenHash(token)),
    withLock: (orgId, fn) => store.withLock(orgId, (locked) => fn(access(locked))),
  };
}
