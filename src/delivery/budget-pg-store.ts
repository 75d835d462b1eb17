import type { PgDatabase } from '../db/pg/client.js';
import { type BudgetStore, burstOf } from './budget.js';

/** How stale `paused()` may be before it asks the table again (in the background). */
export const PAUSED_REFRESH_MS = 500;

/**
 * Each org's request budget in `org_budgets`, one row per org shared by every instance: N
 * instances together never take more than the org's `requestsPerMinute`, and a 429 on one pauses
 * the org on all. A take is ONE statement (an upsert whose SET computes the refilled bucket from
 * the old row under its row lock), so concurrent takes queue on the row and none is lost or
 * doubled; there is no read-then-write to race.
 *
 * The refill (`tokens + elapsed × perMinute / 60 s`, capped at `burstOf(perMinute)`) counts elapsed time from
 * the row's `at`, which only moves forward (`greatest(at, now)`): an instance whose clock is behind
 * gets no refill, and two instances never both refill the same interval. `paused_until` only grows.
 *
 * `paused()` must answer synchronously (the runner asks before each claim), so it reads a local
 * mirror: every take and pause result goes into it at once, and the table is re-read for other
 * instances' pauses at most every PAUSED_REFRESH_MS, kicked from `paused()` itself and never
 * waited for. The mirror is only a hint: a take still asks the row, so a stale mirror costs at
 * most a claimed job that waits again.
 */
export class PgBudgetStore implements BudgetStore {
  private readonly mirror = new Map<string, number>();
  private refreshedAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly database: PgDatabase,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  async take(orgId: string, perMinute: number, now: number, count = 1): Promise<number | undefined> {
    const { sql } = this.database;
    const burst = burstOf(perMinute);
    const need = Math.min(count, burst);
    const rate = sql`${perMinute}::float8`;
    const at = sql`${now}::bigint`;
    const refill = sql`least(${burst}::float8, b.tokens + greatest(0, ${at} - b.at) * ${rate} / 60000.0)`;
    const paused = sql`b.paused_until > ${at}`;
    const enough = sql`${refill} >= ${need}::float8`;
    // A new row starts full, less this take (need never exceeds the burst).
    const [row] = await sql<{ paused_until: string }[]>`
      insert into org_budgets as b (org_id, tokens, at, paused_until)
      values (${orgId}, ${burst - need}::float8, ${at}, 0)
      on conflict (org_id) do update set
        tokens = case when ${paused} then b.tokens
                      when ${enough} then ${refill} - ${need}::float8
                      else ${refill} end,
        at = case when ${paused} then b.at else greatest(b.at, ${at}) end,
        paused_until = case when ${paused} or ${enough} then b.paused_until
                            else ${at} + ceil((${need}::float8 - ${refill}) * 60000.0 / ${rate})::bigint end
      returning paused_until`;
    // Taken exactly when the row is not paused at `now` afterwards (a refused take leaves it paused).
    const until = Number(row!.paused_until);
    if (until <= now) return undefined;
    this.note(orgId, until);
    return until;
  }

  async pause(orgId: string, until: number): Promise<void> {
    this.note(orgId, until);
    const { sql } = this.database;
    // A row that does not exist yet starts full (perMinute is not known here: the first take's
    // refill caps it), paused from now on.
    await sql`
      insert into org_budgets as b (org_id, tokens, at, paused_until)
      values (${orgId}, 'Infinity'::float8, 0, ${until}::bigint)
      on conflict (org_id) do update set paused_until = greatest(b.paused_until, excluded.paused_until)`;
  }

  paused(now: number): string[] {
    if (!this.refreshing && now - this.refreshedAt >= PAUSED_REFRESH_MS) {
      this.refreshing = this.refresh(now)
        .catch(this.onError)
        .finally(() => {
          this.refreshing = undefined;
        });
    }
    const out: string[] = [];
    for (const [org, until] of this.mirror) {
      if (until > now) out.push(org);
      else this.mirror.delete(org);
    }
    return out;
  }

  /** Re-reads every org paused at `now` (the table is one row per org). */
  async refresh(now: number): Promise<void> {
    this.refreshedAt = now;
    const rows = await this.database.sql<{ org_id: string; paused_until: string }[]>`
      select org_id, paused_until from org_budgets where paused_until > ${now}::bigint`;
    for (const r of rows) this.note(r.org_id, Number(r.paused_until));
  }

  /** `paused_until` only grows, so the mirror keeps the later of what it had and what it learnt. */
  private note(orgId: string, until: number): void {
    this.mirror.set(orgId, Math.max(until, this.mirror.get(orgId) ?? 0));
  }
}
