import type BetterSqlite3 from 'better-sqlite3';
import { preparedAuditAppend } from '../audit/store.js';
import { newId } from '../lib/ids.js';
import {
  type Claimed,
  DEFAULT_MAX_ATTEMPTS,
  type Job,
  type JobQueue,
  type JobRow,
  type NewJob,
  newOwner,
  type Settle,
  toJob,
} from './queue.js';

/**
 * The durable queue on SQLite (liteque's shape, graphile-worker's semantics). Enqueue runs inside
 * the caller's transaction, so a job exists exactly when the change that caused it does.
 */
export class SqliteJobQueue implements JobQueue {
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
   * Takes the next claimable job and leases it to a new owner until `now + leaseMs`. `served`
   * ranks orgs by when this worker last served them (higher = more recent): among equally busy
   * orgs, the one served longest ago goes first, which is a round robin across orgs however long
   * one org's backlog is.
   */
  async claim(
    now: number,
    leaseMs: number,
    pausedOrgs: readonly string[] = [],
    served: Readonly<Record<string, number>> = {},
    fold: (head: Job) => number = () => 0,
  ): Promise<Claimed | undefined> {
    const params = {
      now,
      lease: now + leaseMs,
      owner: newOwner(),
      paused: JSON.stringify(pausedOrgs),
      served: JSON.stringify(served),
    };
    return this.sql.claim(params, (head) => {
      const limit = fold(head);
      return limit > 0 ? this.takeFollowers(head, now, leaseMs, limit) : [];
    });
  }

  /**
   * The jobs queued behind a running head in its lane, leased to the head's owner so a handler can
   * fold them into one piece of work (oldest first). Always every job that a dead run had folded
   * (a crash, an expired lease: they still name its owner), so values that may already have
   * reached Genesys are never followed by older ones; then ready ones, up to `limit`. Only a
   * lane's head ever runs, so no live run can be holding any of them.
   */
  takeFollowers(head: Job, now: number, leaseMs: number, limit: number): Job[] {
    const rows = this.sql.followers.all({
      lane: head.lane,
      after: head.id,
      owner: head.owner,
      now,
      lease: now + leaseMs,
      limit,
    }) as JobRow[];
    return rows.map(toJob).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /**
   * Ends a run in one transaction: the head's new state, its followers', and the run's `effects`.
   * Nothing is written unless the run still owns the head (its lease may have run out and another
   * run claimed it): returns false then.
   */
  async settle(s: Settle, now: number): Promise<boolean> {
    const settled = this.sql.settle(s, now);
    if (settled && (s.outcome.status === 'pending' || (s.followers?.length ?? 0) > 0)) this.emit();
    return settled;
  }

  /** Keeps the leases of live runs (their owners) from running out while they wait on Genesys. */
  async extend(owners: readonly string[], now: number, leaseMs: number): Promise<void> {
    if (owners.length > 0) this.sql.extend.run({ owners: JSON.stringify(owners), lease: now + leaseMs, now });
  }

  /**
   * At start: jobs left running belong to a process that is gone. SQLite means one process owns
   * the queue, so they go back to pending at once instead of blocking their lanes until their
   * leases run out (a backend shared by several instances relies on lease expiry instead). The
   * interrupted attempt counts, as an expired lease does. They keep their dead owner, so the jobs
   * that were folded together fold together again. Returns how many were recovered.
   */
  async recoverAbandoned(now: number): Promise<number> {
    return this.sql.recover.run({ now }).changes;
  }

  /** Unfinished jobs of an org, and when the oldest of them was enqueued. */
  async backlog(orgId: string): Promise<{ pending: number; oldestCreatedAt: number | null }> {
    const r = this.sql.counts.get(orgId) as { pending: number; oldest: number | null };
    return { pending: r.pending, oldestCreatedAt: r.oldest };
  }

  /** Jobs by status, and when the oldest unfinished one was enqueued (all orgs): for /metrics. */
  async depth(): Promise<{ byStatus: Record<string, number>; oldestCreatedAt: number | null }> {
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
    `update jobs set status = 'running', locked_until = @lease, owner = @owner, updated_at = @now,
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
  const head = {
    // Done: an error from an earlier attempt (a 429, a 503) no longer describes it.
    succeeded: sqlite.prepare(
      `update jobs set status = 'succeeded', locked_until = null, owner = null, last_error = null, updated_at = @now,
         attempts = attempts + 1
       where id = @id and owner = @owner and status = 'running'`,
    ),
    pending: sqlite.prepare(
      `update jobs set status = 'pending', locked_until = null, owner = null, run_at = @runAt, updated_at = @now,
         attempts = attempts + @counted, last_error = @error
       where id = @id and owner = @owner and status = 'running'`,
    ),
    failed: sqlite.prepare(
      `update jobs set status = 'failed', locked_until = null, owner = null, updated_at = @now, last_error = @error,
         attempts = attempts + @counted
       where id = @id and owner = @owner and status = 'running'`,
    ),
  };
  const follower = {
    // The head's count: the audit names the head's attempts for every event of the PATCH.
    done: sqlite.prepare(
      `update jobs set status = 'succeeded', locked_until = null, owner = null, last_error = null, updated_at = @now,
         attempts = @attempts
       where id = @id and owner = @owner and status = 'running'`,
    ),
    release: sqlite.prepare(
      `update jobs set status = 'pending', locked_until = null, owner = null, updated_at = @now
       where id = @id and owner = @owner and status = 'running'`,
    ),
  };
  // The head and the jobs it folds are leased together, so no other run sees one without the other.
  const claim = sqlite.transaction(
    (params: Record<string, unknown>, foldFor: (head: Job) => Job[]): Claimed | undefined => {
      const row = claimOne.get(params) as JobRow | undefined;
      if (!row) return undefined;
      const head = toJob(row);
      return { ...head, followers: foldFor(head) };
    },
  );
  const audit = preparedAuditAppend(sqlite);
  const settle = sqlite.transaction((s: Settle, now: number): boolean => {
    const o = s.outcome;
    const base = { id: s.job.id, owner: s.job.owner, now };
    const changed =
      o.status === 'succeeded'
        ? head.succeeded.run(base)
        : o.status === 'pending'
          ? head.pending.run({ ...base, runAt: o.runAt, error: o.error, counted: o.countAttempt ? 1 : 0 })
          : head.failed.run({ ...base, error: o.error, counted: o.countAttempt ? 1 : 0 });
    if (changed.changes !== 1) return false;
    for (const j of s.followers ?? []) {
      const ids = { id: j.id, owner: s.job.owner, now };
      if (o.status === 'succeeded') follower.done.run({ ...ids, attempts: s.job.attempts + 1 });
      else follower.release.run(ids);
    }
    for (const entry of s.audit ?? []) audit(entry);
    return true;
  });
  const extend = sqlite.prepare(
    `update jobs set locked_until = @lease, updated_at = @now
     where owner in (select value from json_each(@owners)) and status = 'running'`,
  );
  const counts = sqlite.prepare(
    `select count(*) as pending, min(created_at) as oldest from jobs where status in ('pending', 'running') and org_id = ?`,
  );
  // A dead run's jobs (still naming its owner), then ready ones; `union` drops the overlap.
  const followers = sqlite.prepare(
    `update jobs set status = 'running', locked_until = @lease, owner = @owner, updated_at = @now
     where id in (
       select id from jobs where lane = @lane and id > @after and status in ('pending', 'running')
         and owner is not null and owner != @owner
       union
       select id from (select id from jobs where lane = @lane and status = 'pending' and run_at <= @now
         and id > @after order by id limit @limit))
     returning *`,
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
    claim,
    settle,
    extend,
    counts,
    followers,
    recover,
    byStatus,
    oldestUnfinished,
  };
}
