/**
 * Each org's Genesys request budget: a token bucket of `requestsPerMinute` (Genesys allows 300
 * per minute per client-credentials token), refilled continuously. A 429 pauses the org until its
 * Retry-After. An org out of budget is paused for the runner, so its jobs wait without holding
 * up other orgs'.
 */
export class Budgets {
  private readonly buckets = new Map<string, { tokens: number; at: number; perMinute: number }>();
  private readonly pausedUntil = new Map<string, number>();

  /**
   * Takes `count` requests' worth (at most a minute's) at once; `undefined` when taken, else when
   * to try again. A delivery reserves its GET and PATCH together, so it never stops half-way.
   */
  take(orgId: string, perMinute: number, now: number, count = 1): number | undefined {
    const need = Math.min(count, perMinute);
    const paused = this.pausedUntil.get(orgId);
    if (paused !== undefined && paused > now) return paused;
    let b = this.buckets.get(orgId);
    if (!b || b.perMinute !== perMinute) {
      b = { tokens: perMinute, at: now, perMinute };
      this.buckets.set(orgId, b);
    }
    b.tokens = Math.min(perMinute, b.tokens + ((now - b.at) * perMinute) / 60_000);
    b.at = now;
    if (b.tokens >= need) {
      b.tokens -= need;
      return undefined;
    }
    const next = now + Math.ceil(((need - b.tokens) * 60_000) / perMinute);
    this.pausedUntil.set(orgId, next);
    return next;
  }

  /** After a 429: nothing for this org until `until`. */
  pause(orgId: string, until: number): void {
    this.pausedUntil.set(orgId, Math.max(until, this.pausedUntil.get(orgId) ?? 0));
  }

  /** Orgs the runner must not claim for right now. */
  paused(now: number): string[] {
    const out: string[] = [];
    for (const [org, until] of this.pausedUntil) {
      if (until > now) out.push(org);
      else this.pausedUntil.delete(org);
    }
    return out;
  }
}
