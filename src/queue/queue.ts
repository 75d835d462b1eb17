import type BetterSqlite3 from 'better-sqlite3';
import { newId } from '../lib/ids.js';

export interface NewJob {
  kind: string;
  orgId: string;
  /** Jobs of one lane run one at a time, oldest first. */
  lane: string;
  payload: unknown;
  runAt?: number;
  maxAttempts?: number;
  /** With `kind`, unique: enqueueing the same key again returns the first job's id. */
  idempotencyKey?: string;
}

export interface Job {
  id: string;
  kind: string;
  orgId: string;
  lane: string;
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  runAt: number;
  createdAt: number;
  lastError: string | null;
}

interface Row {
  id: string;
  kind: string;
  org_id: string;
  lane: string;
  payload: string;
  attempts: number;
  max_attempts: number;
  run_at: number;
  created_at: number;
  last_error: string | null;
}

const toJob = (r: Row): Job => ({
  id: r.id,
  kind: r.kind,
  orgId: r.org_id,
  lane: r.lane,
  payload: JSON.parse(r.payload),
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  runAt: r.run_at,
  createdAt: r.created_at,
  lastError: r.last_error,
});

export const DEFAULT_MAX_ATTEMPTS = 10;

/**
 * The durable queue on SQLite (liteque's shape, graphile-worker's semantics). Enqueue runs inside
 * the caller's transaction, so a job exists exactly when the change that caused it does.
 */
export class JobQueue {
  private readonly listeners = new Set<() => void>();
  private prepared: ReturnType<typeof prepare> | undefined;

  constructor(private readonly sqlite: BetterSqlite3.Database) {}

  /** Prepared on first use: the server may start before its migrations are applied. */
  private get sql() {
    this.prepared ??= prepare(this.sqlite);
    return this.prepared;
  }

  /**
   * Adds jobs; call it inside the transaction of the change that causes them (better-sqlite3
   * transactions are synchronous). Returns each job's id (the existing one for a repeated key).
   * Workers are woken once the current transaction can have committed.
   */
  enqueue(jobs: readonly NewJob[], now: number): string[] {
    const ids = jobs.map((j) => {
      const id = newId('job', now);
      const key = j.idempotencyKey ?? null;
      const r = this.sql.insert.run({
        id,
        kind: j.kind,
        orgId: j.orgId,
        lane: j.lane,
        payload: JSON.stringify(j.payload),
        maxAttempts: j.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        runAt: j.runAt ?? now,
        key,
        now,
      });
      return r.changes === 1 ? id : (this.sql.byKey.get(j.kind, key) as string);
    });
    if (jobs.length > 0) setImmediate(() => this.emit());
    return ids;
  }

  /**
   * Takes the next claimable job and leases it until `now + leaseMs`. `served` ranks orgs by when
   * this worker last served them (higher = more recent): among equally busy orgs, the one served
   * longest ago goes first, which is a round robin across orgs however long one org's backlog is.
   */
  claim(
    now: number,
    leaseMs: number,
    pausedOrgs: readonly string[] = [],
    served: Readonly<Record<string, number>> = {},
  ): Job | undefined {
    const params = {
      now,
      lease: now + leaseMs,
      paused: JSON.stringify(pausedOrgs),
      served: JSON.stringify(served),
    };
    const row = this.sql.claimOne.get(params) as Row | undefined;
    return row ? toJob(row) : undefined;
  }

  /**
   * The ready jobs queued behind a running head in its lane (oldest first, at most `limit`),
   * leased with it so a handler can fold them into one piece of work. Only a lane's head ever runs,
   * so nobody else can be holding them.
   */
  takeFollowers(lane: string, headId: string, now: number, leaseMs: number, limit: number): Job[] {
    const rows = this.sql.followers.all({ lane, after: headId, now, lease: now + leaseMs, limit }) as Row[];
    return rows.map(toJob).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Followers taken but not used: back to pending, unchanged. */
  release(ids: readonly string[], now: number): void {
    for (const id of ids) this.sql.release.run(now, id);
    if (ids.length > 0) this.emit();
  }

  /**
   * At start: jobs left running belong to a process that is gone. SQLite means one process owns
   * the queue, so they go back to pending at once instead of blocking their lanes until their
   * leases run out (a backend shared by several instances relies on lease expiry instead). The
   * interrupted attempt counts, as an expired lease does. Returns how many were recovered.
   */
  recoverAbandoned(now: number): number {
    return this.sql.recover.run({ now }).changes;
  }

  complete(id: string, now: number): void {
    this.sql.setDone.run(now, id);
  }

  /** Back to pending until `runAt`; `countAttempt: false` for waits that are not failures (429, budget). */
  retry(id: string, now: number, runAt: number, error: string, countAttempt: boolean): void {
    this.sql.setPending.run({ id, now, runAt, error, counted: countAttempt ? 1 : 0 });
    this.emit();
  }

  fail(id: string, now: number, error: string, countAttempt = true): void {
    this.sql.setFailed.run({ id, now, error, counted: countAttempt ? 1 : 0 });
  }

  /** Unfinished jobs of an org, and when the oldest of them was enqueued. */
  backlog(orgId: string): { pending: number; oldestCreatedAt: number | null } {
    const r = this.sql.counts.get(orgId) as { pending: number; oldest: number | null };
    return { pending: r.pending, oldestCreatedAt: r.oldest };
  }

  /** Jobs by status, and when the oldest unfinished one was enqueued (all orgs): for /metrics. */
  depth(): { byStatus: Record<string, number>; oldestCreatedAt: number | null } {
    const rows = this.sql.byStatus.all() as Array<{ status: string; n: number }>;
    const oldest = this.sql.oldestUnfinished.get() as number | null;
    return { byStatus: Object.fromEntries(rows.map((r) => [r.status, r.n])), oldestCreatedAt: oldest };
  }

  /** Called after enqueue and retry: a runner waiting for work wakes up. */
  onWork(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}

function prepare(sqlite: BetterSqlite3.Database) {
  const insert = sqlite.prepare(
    `insert into jobs (id, kind, org_id, lane, payload, status, attempts, max_attempts, run_at, idempotency_key, created_at, updated_at)
       values (@id, @kind, @orgId, @lane, @payload, 'pending', 0, @maxAttempts, @runAt, @key, @now, @now)
       on conflict (kind, idempotency_key) do nothing`,
  );
  const byKey = sqlite.prepare('select id from jobs where kind = ? and idempotency_key = ?').pluck();
  /*
   * One statement, so two workers can never take the same job. Claimable: ready and pending, or
   * running with its lease run out (its worker died; that counts as a failed attempt). Only a
   * lane's head (its oldest unfinished job) is claimable, so a job waiting for a retry holds its
   * lane and later jobs cannot overtake it. Orgs with fewer running jobs, then the org served
   * longest ago, go first (fairness), and
   * paused orgs (no budget, rate limited) are skipped without blocking anyone else.
   */
  const claimOne = sqlite.prepare(
    `update jobs set status = 'running', locked_until = @lease, updated_at = @now,
         attempts = attempts + (case when status = 'running' then 1 else 0 end),
         last_error = case when status = 'running' then 'lease expired' else last_error end
       where id = (
         select j.id from jobs j
         where ((j.status = 'pending' and j.run_at <= @now) or (j.status = 'running' and j.locked_until < @now))
           and not exists (select 1 from jobs e where e.lane = j.lane and e.status in ('pending', 'running') and e.id < j.id)
           and j.org_id not in (select value from json_each(@paused))
         order by (select count(*) from jobs c where c.org_id = j.org_id and c.status = 'running' and c.locked_until >= @now),
           coalesce((select s.value from json_each(@served) s where s.key = j.org_id), 0),
           j.run_at, j.id
         limit 1)
       returning *`,
  );
  const setDone = sqlite.prepare(
    "update jobs set status = 'succeeded', locked_until = null, updated_at = ? where id = ? and status = 'running'",
  );
  const setPending = sqlite.prepare(
    `update jobs set status = 'pending', locked_until = null, run_at = @runAt, updated_at = @now,
         attempts = attempts + @counted, last_error = @error
       where id = @id and status = 'running'`,
  );
  const setFailed = sqlite.prepare(
    `update jobs set status = 'failed', locked_until = null, updated_at = @now, last_error = @error,
         attempts = attempts + @counted where id = @id and status = 'running'`,
  );
  const counts = sqlite.prepare(
    `select count(*) as pending, min(created_at) as oldest from jobs where status in ('pending', 'running') and org_id = ?`,
  );
  const followers = sqlite.prepare(
    `update jobs set status = 'running', locked_until = @lease, updated_at = @now
     where id in (select id from jobs where lane = @lane and status = 'pending' and run_at <= @now and id > @after
                  order by id limit @limit)
     returning *`,
  );
  const release = sqlite.prepare(
    "update jobs set status = 'pending', locked_until = null, updated_at = ? where id = ? and status = 'running'",
  );
  const recover = sqlite.prepare(
    `update jobs set status = 'pending', locked_until = null, run_at = @now, updated_at = @now,
       attempts = attempts + 1, last_error = 'interrupted: the process stopped while it ran'
     where status = 'running'`,
  );
  const byStatus = sqlite.prepare('select status, count(*) as n from jobs group by status');
  const oldestUnfinished = sqlite
    .prepare("select min(created_at) from jobs where status in ('pending', 'running')")
    .pluck();
  return {
    insert,
    byKey,
    claimOne,
    setDone,
    setPending,
    setFailed,
    counts,
    followers,
    release,
    recover,
    byStatus,
    oldestUnfinished,
  };
}
