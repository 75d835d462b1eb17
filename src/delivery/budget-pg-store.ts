import type { PgDatabase } from '../db/pg/client.js';
import { groupCommit } from '../lib/group-commit.js';
import type { BudgetStore } from './budget.js';

/** How stale `paused()` may be before it asks the table again (in the background). */
export const PAUSED_REFRESH_MS = 500;

/**
 * Each org's request budget in `org_budgets`, one row per org shared by every instance: N
 * instances together never take more than the org's `requestsPerMinute` in any minute, and a 429
 * on one pauses the org on all. A take is ONE call of `relay_budget_take`
 * (migrations-pg/0005_budget_sliding_minute.sql), which locks the org's row, drops the takes that
 * aged out of the minute and adds this one if it fits: concurrent takes queue on the row and none
 * is lost or doubled. Take times only move forward in the row, so an instance whose clock is
 * behind finds the others' takes still in its minute. `paused_until` only grows.
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
    const need = Math.min(count, perMinute);
    // 0 when taken, else when to try again.
    const until = await this.takeGrouped({ o: orgId, p: perMinute, n: now, c: need });
    if (until <= now) return undefined;
    this.note(orgId, until);
    return until;
  }

  /**
   * The takes of one turn in one statement (one commit, not one per delivery: a commit of its own
   * was a WAL flush per Genesys call), each still one call of `relay_budget_take`, in the order
   * they were asked: the set-returning scan hands the lateral call its rows in array order (and `i`
   * puts the answers back in it).
   */
  private readonly takeGrouped = groupCommit(
    async (batch: Array<{ o: string; p: number; n: number; c: number }>) => {
      // Orgs' rows locked in org order (each org's takes in the order asked): two instances'
      // batches locking two orgs' rows in opposite orders deadlocked (the 3-instance bench).
      const ordered = batch
        .map((t, i) => ({ ...t, i }))
        .sort((a, b) => (a.o < b.o ? -1 : a.o > b.o ? 1 : a.i - b.i));
      const rows = await this.database.sql<{ paused_until: string }[]>`
        select r.paused_until
        from jsonb_to_recordset(${JSON.stringify(ordered)}::jsonb)
          as t(o text, p int, n bigint, c int, i int)
        cross join lateral (select relay_budget_take(t.o, t.p, t.n, t.c) as paused_until) r
        order by t.i`;
      return rows.map((r) => Number(r.paused_until));
    },
  );

  async pause(orgId: string, until: number): Promise<void> {
    this.note(orgId, until);
    const { sql } = this.database;
    // A row that does not exist yet starts with no takes, paused from now on.
    await sql`
      insert into org_budgets as b (org_id, paused_until)
      values (${orgId}, ${until}::bigint)
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
