/**
 * Each org's Genesys request budget (Genesys allows 300 per minute per client-credentials token):
 * a sliding minute. A take goes out while fewer than `requestsPerMinute` calls were taken in the
 * 60 s before it, so no 60 s window ever holds more than the budget, and a burst up to the whole
 * budget still goes out at once (as Genesys' own per-minute window allows). A token bucket could
 * not do both: one as big as the minute let a full bucket and a minute's refill out within 60 s
 * (twice the budget; the multi-instance test measured it), one small enough to stay within 5 %
 * held a burst of 20 distinct conversations back for seconds. A 429 pauses the org until its
 * Retry-After. An org out of budget is paused for the runner, so its jobs wait without holding up
 * other orgs'.
 *
 * One budget per org for the whole deployment: on SQLite one process owns the file, so the minute
 * lives in its memory (`Budgets`); on PostgreSQL every instance takes from one row per org
 * (src/delivery/budget-pg-store.ts), so N instances together stay within the org's budget and a
 * 429 seen by one pauses the org on all of them.
 */
/**
 * How long a take counts: a minute and 2 s. A call reaches Genesys a little after it was taken (a
 * delivery takes its read and its PATCH together; a loaded process sends late), and without the
 * margin a burst taken the moment the last minute's takes aged out landed in the same 60 s as
 * their late arrivals: 317 of 300 at the emulator in one CI run.
 */
export const BUDGET_WINDOW_MS = 62_000;

export interface BudgetStore {
  /**
   * Takes `count` requests' worth (at most a minute's) at once; `undefined` when taken, else when
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

/** The in-memory sliding minute of one process (the SQLite backend). */
export class Budgets implements BudgetStore {
  /** Per org, when each call of the last minute was taken, oldest first. */
  private readonly taken = new Map<string, number[]>();
  private readonly pausedUntil = new Map<string, number>();

  async take(orgId: string, perMinute: number, now: number, count = 1): Promise<number | undefined> {
    const need = Math.min(count, perMinute);
    const paused = this.pausedUntil.get(orgId);
    if (paused !== undefined && paused > now) return paused;
    const log = this.taken.get(orgId) ?? [];
    let aged = 0;
    while (aged < log.length && log[aged]! <= now - BUDGET_WINDOW_MS) aged++;
    if (aged > 0) log.splice(0, aged);
    if (log.length + need <= perMinute) {
      // Times only move forward in the log (as on PostgreSQL), so it stays oldest first.
      const at = Math.max(now, log.at(-1) ?? now);
      for (let i = 0; i < need; i++) log.push(at);
      this.taken.set(orgId, log);
      return undefined;
    }
    // When enough of the minute's calls have aged out to make room for this one.
    const next = log[log.length + need - perMinute - 1]! + BUDGET_WINDOW_MS;
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
