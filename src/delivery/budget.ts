/**
 * Each org's Genesys request budget: a token bucket refilled at `requestsPerMinute` (Genesys allows
 * 300 per minute per client-credentials token), holding at most `burstOf` of it. A 429 pauses the org until its
 * Retry-After. An org out of budget is paused for the runner, so its jobs wait without holding
 * up other orgs'.
 *
 * One budget per org for the whole deployment: on SQLite one process owns the file, so the bucket
 * lives in its memory (`Budgets`); on PostgreSQL every instance takes from one row per org
 * (src/delivery/budget-pg-store.ts), so N instances together stay within the org's budget and a
 * 429 seen by one pauses the org on all of them.
 */
/**
 * How many requests an org may send at once (the bucket's size): a twentieth of its minute, at
 * least 3 (a delivery reserves up to 3 calls together). A bucket as big as the minute would let a
 * full bucket and a minute's refill both go out within 60 s, twice the budget; with a twentieth,
 * no 60 s window ever holds more than 5 % over it, which is what Genesys' per-minute limit allows
 * without 429s.
 */
export const burstOf = (perMinute: number): number =>
  Math.min(perMinute, Math.max(3, Math.ceil(perMinute / 20)));

export interface BudgetStore {
  /**
   * Takes `count` requests' worth (at most a burst's, `burstOf`) at once; `undefined` when taken, else when
   * to try again. A delivery reserves its GET and PATCH together, so it never stops half-way.
   */
  take(orgId: string, perMinute: number, now: number, count?: number): Promise<number | undefined>;
  /** After a 429: nothing for this org until `until` (on every instance). */
  pause(orgId: string, until: number): Promise<void>;
  /**
   * Orgs the runner must not claim for right now. Synchronous (the runner asks before each claim):
   * a shared store answers from what it last saw and refreshes in the background.
   */
  paused(now: number): string[];
  /** Brings `paused` up to date with other instances' takes and pauses now (tests; a no-op in memory). */
  refresh(now: number): Promise<void>;
}

/** The in-memory bucket of one process (the SQLite backend). */
export class Budgets implements BudgetStore {
  private readonly buckets = new Map<string, { tokens: number; at: number; perMinute: number }>();
  private readonly pausedUntil = new Map<string, number>();

  async take(orgId: string, perMinute: number, now: number, count = 1): Promise<number | undefined> {
    const burst = burstOf(perMinute);
    const need = Math.min(count, burst);
    const paused = this.pausedUntil.get(orgId);
    if (paused !== undefined && paused > now) return paused;
    let b = this.buckets.get(orgId);
    if (!b || b.perMinute !== perMinute) {
      b = { tokens: burst, at: now, perMinute };
      this.buckets.set(orgId, b);
    }
    // Time only moves forward for the bucket (as on PostgreSQL): an earlier `now` refills nothing.
    b.tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) * perMinute) / 60_000);
    b.at = Math.max(b.at, now);
    if (b.tokens >= need) {
      b.tokens -= need;
      return undefined;
    }
    const next = now + Math.ceil(((need - b.tokens) * 60_000) / perMinute);
    this.pausedUntil.set(orgId, next);
    return next;
  }

  async pause(orgId: string, until: number): Promise<void> {
    this.pausedUntil.set(orgId, Math.max(until, this.pausedUntil.get(orgId) ?? 0));
  }

  paused(now: number): string[] {
    const out: string[] = [];
    for (const [org, until] of this.pausedUntil) {
      if (until > now) out.push(org);
      else this.pausedUntil.delete(org);
    }
    return out;
  }

  async refresh(): Promise<void> {}
}
