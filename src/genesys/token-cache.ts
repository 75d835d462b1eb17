import type { Clock } from '../lib/clock.js';
import type { Failure, Outcome } from './outcome.js';
import type { SharedToken, SharedTokens } from './shared-tokens.js';

/** An org's client-credentials grant, as stored at install. */
export interface Credentials {
  readonly environment: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** Looks up an org's grant; `undefined` when the org has none (not installed). */
export type CredentialsProvider = (
  orgId: string,
) => Credentials | undefined | Promise<Credentials | undefined>;

export interface TokenGrant {
  readonly accessToken: string;
  readonly expiresInSeconds: number;
}

export interface CachedToken {
  readonly token: string;
  readonly environment: string;
}

/** Told about every token request of an org: grant health (`lastTokenAt`, `lastError`) and metrics. */
export type TokenObserver = (orgId: string, outcome: Outcome<TokenGrant>) => void;

interface Entry {
  readonly token: string;
  readonly environment: string;
  /** When to start fetching the next one in the background while this one still serves. */
  readonly refreshAt: number;
  /** When to stop using it (a little before Genesys' expiry, for clock skew and travel time). */
  readonly useUntil: number;
}

/** Refresh this long before expiry, or a tenth of the lifetime for short-lived tokens. */
const REFRESH_AHEAD_MS = 60_000;
const SAFETY_MS = 5_000;

/**
 * One client-credentials token per org, fetched once however many callers ask at the same time
 * (single-flight), refreshed in the background ahead of expiry, and dropped on a 401 so the next
 * caller fetches a new one. Tokens live in memory and never reach a log.
 *
 * With `shared` (several instances on one PostgreSQL database), the token is also every other
 * instance's: a fetch first looks at the shared one and takes it if it serves, and otherwise
 * fetches under the org's lock, looking again once it holds it (another instance may have just
 * fetched one), then writes what it got for the others. So N instances fetch one token, and a token
 * Genesys refuses is replaced once for all of them. Without it (SQLite), nothing changes.
 */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<CachedToken | Failure>>();
  /** Bumped by a full invalidation, so a fetch begun with the old grant cannot store its token. */
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly deps: {
      credentials: CredentialsProvider;
      fetchToken: (credentials: Credentials) => Promise<Outcome<TokenGrant>>;
      clock: Clock;
      observer?: TokenObserver;
      shared?: SharedTokens;
    },
  ) {}

  /** Per org, the last token a 401 refused: never taken from the shared row again. */
  private readonly refused = new Map<string, string>();
  /**
   * Per org, the shared row's drop after a grant change, until it lands: a fetch waits for it, or
   * the drop (queued behind the fetch's lock) would delete the token the fetch just wrote.
   */
  private readonly dropping = new Map<string, Promise<void>>();

  /** A usable token for the org, or why there is none. */
  async get(orgId: string): Promise<CachedToken | Failure> {
    const now = this.deps.clock.now();
    const entry = this.entries.get(orgId);
    if (entry && now < entry.useUntil) {
      if (now >= entry.refreshAt) void this.refresh(orgId); // serve the current one meanwhile
      return { token: entry.token, environment: entry.environment };
    }
    return this.refresh(orgId);
  }

  /**
   * Forgets the org's token. With `token`, only if it is still the cached one: many requests that
   * failed with the same expired token then cause one refresh, not one each.
   */
  invalidate(orgId: string, token?: string): void {
    const entry = this.entries.get(orgId);
    if (token !== undefined) {
      if (entry?.token === token) this.entries.delete(orgId);
      this.refused.set(orgId, token);
      void this.dropShared(orgId, token);
      return;
    }
    // The grant itself changed (or the org left): forget everything, including a fetch under way.
    this.entries.delete(orgId);
    this.inflight.delete(orgId);
    this.generations.set(orgId, (this.generations.get(orgId) ?? 0) + 1);
    const drop = this.dropShared(orgId);
    this.dropping.set(orgId, drop);
    void drop.then(() => {
      if (this.dropping.get(orgId) === drop) this.dropping.delete(orgId);
    });
  }

  /**
   * In the background. A 401's drop only deletes that token's row, so it cannot undo a new token
   * written before it (and a fetch meanwhile never takes the refused token, see `serves`). A grant
   * change's drop deletes whatever the org has: fetches here wait for it (`dropping`).
   */
  private async dropShared(orgId: string, token?: string): Promise<void> {
    await this.deps.shared?.drop(orgId, token).catch(() => {
      // The shared row outlives its token by at most its lifetime; a 401 on it drops it again.
    });
  }

  private refresh(orgId: string): Promise<CachedToken | Failure> {
    let pending = this.inflight.get(orgId);
    if (!pending) {
      const p = this.fetch(orgId).finally(() => {
        if (this.inflight.get(orgId) === p) this.inflight.delete(orgId);
      });
      pending = p;
      this.inflight.set(orgId, p);
    }
    return pending;
  }

  private async fetch(orgId: string): Promise<CachedToken | Failure> {
    const generation = this.generations.get(orgId) ?? 0;
    const { shared } = this.deps;
    if (shared) {
      await this.dropping.get(orgId); // never rejects
      const found = await shared.read(orgId).catch(() => undefined);
      if (this.serves(orgId, found)) return this.adopt(orgId, found, generation);
    }
    const credentials = await this.deps.credentials(orgId);
    if (!credentials) {
      return {
        kind: 'unauthorized',
        status: undefined,
        code: 'grant.missing',
        message: 'no grant is stored for this org',
        correlationId: undefined,
      };
    }
    if (!shared) return this.fetchNew(orgId, credentials, generation);
    let fetched: CachedToken | Failure | undefined;
    try {
      return await shared.withLock(orgId, async (locked) => {
        const found = await locked.read(orgId);
        if (this.serves(orgId, found)) return this.adopt(orgId, found, generation);
        fetched = await this.fetchNew(orgId, credentials, generation);
        // Shared only if cached here (not when the grant changed meanwhile).
        const entry = this.entries.get(orgId);
        if (!('kind' in fetched) && entry?.token === fetched.token) await locked.write(orgId, entry);
        return fetched;
      });
    } catch {
      // The database failed us: this instance still gets a token, just not a shared one.
      return fetched ?? this.fetchNew(orgId, credentials, generation);
    }
  }

  /**
   * Whether the shared token may be used instead of fetching: still usable, not one a 401 refused,
   * and either not due for refresh or not the one this instance is refreshing (a token it has never
   * seen serves until `useUntil`, its refresh then begins from here).
   */
  private serves(orgId: string, found: SharedToken | undefined): found is SharedToken {
    if (!found) return false;
    const now = this.deps.clock.now();
    if (now >= found.useUntil || found.token === this.refused.get(orgId)) return false;
    return now < found.refreshAt || found.token !== this.entries.get(orgId)?.token;
  }

  private adopt(orgId: string, found: SharedToken, generation: number): CachedToken {
    const token = { token: found.token, environment: found.environment };
    if ((this.generations.get(orgId) ?? 0) !== generation) return token; // for this caller only
    this.entries.set(orgId, found);
    return token;
  }

  /** Asks Genesys, and caches the token unless the grant changed meanwhile. */
  private async fetchNew(
    orgId: string,
    credentials: Credentials,
    generation: number,
  ): Promise<CachedToken | Failure> {
    const startedAt = this.deps.clock.now();
    const outcome = await this.deps.fetchToken(credentials);
    this.deps.observer?.(orgId, outcome);
    if (outcome.kind !== 'ok') return outcome;
    const token = { token: outcome.value.accessToken, environment: credentials.environment };
    if ((this.generations.get(orgId) ?? 0) !== generation) return token; // for this caller only
    const lifetimeMs = outcome.value.expiresInSeconds * 1000;
    const ahead = Math.min(REFRESH_AHEAD_MS, lifetimeMs / 10);
    const entry: Entry = {
      token: outcome.value.accessToken,
      environment: credentials.environment,
      refreshAt: startedAt + lifetimeMs - ahead,
      useUntil: startedAt + lifetimeMs - Math.min(SAFETY_MS, ahead / 2),
    };
    this.entries.set(orgId, entry);
    return token;
  }
}
