import type BetterSqlite3 from 'better-sqlite3';
import { preparedAuditAppend } from '../audit/store.js';
import { Failed, groupCommit } from '../lib/group-commit.js';
import { newId, raiseIdFloor } from '../lib/ids.js';
import {
  byRank,
  type Claimed,
  DEFAULT_MAX_ATTEMPTS,
  type Job,
  type JobQueue,
  type JobRow,
  type NewJob,
  newOwner,
  OLDEST_SCAN,
  ORGS_TTL_MS,
  orgBatches,
  presentStatuses,
  type Settle,
  toJob,
  wideRank,
} from './queue.js';

/**
 * The durable queue on SQLite (liteque's shape, graphile-worker's semantics). Enqueue runs inside
 * the caller's transaction, so a job exists exactly when the change that caused it does.
 */
export class SqliteJobQueue implements JobQueue {
  private readonly listeners = new Set<() => void>();
  private prepared: ReturnType<typeof prepare> | undefined;
  /** Runs ending in the same turn settle in one transaction: one commit for all of them. */
  private readonly settleGrouped = groupCommit((batch: Array<{ s: Settle; now: number }>) =>
    this.sql.settleMany(batch),
  );

  constructor(private readonly sqlite: BetterSqlite3.Database) {}

  /** Prepared on first use: the server may start before its migrations are applied. */
  private get sql() {
    if (!this.prepared) {
      this.prepared = prepare(this.sqlite);
      // After every stored job, whatever the clock says since the last start: a lane runs its
      // jobs in id order, so a job made now must never sort before one queued before a restart.
      const top = this.sqlite.prepare('select max(id) from jobs').pluck().get() as string | null;
      if (top) raiseIdFloor('job', top);
    }
    return this.prepared;
  }

  /**
   * Adds jobs; call it inside the transaction of the change that causes them (better-sqlite3
   * transactions are synchronous). Returns each job's id (the existing one for a repeated key).
   * Workers are woken once the current transaction can have committed.
   */
  enqueue(jobs: readonly NewJob[], now: number): string[] {
    const sql = this.sql; // prepared (and the id floor raised) before the first id is made
    const ids = jobs.map((j) => {
      const id = newId('job', now);
      const key = j.idempotencyKey ?? null;
      const r = sql.insert.run({
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
      return r.changes === 1 ? id : (sql.byKey.get(j.kind, key) as string);
    });
    if (jobs.length > 0) {
      sql.noteOrgs(jobs.map((j) => j.orgId));
      setImmediate(() => this.emit());
    }
    return ids;
  }

  /**
   * Up to `max` claims in one transaction, each made after the ones before it (a
   * runner filling 64 free slots commits once, not 64 times).
   */
  async claimSome(
    now: number,
    leaseMs: number,
    max: number,
    pausedOrgs: readonly string[] = [],
    served: Readonly<Record<string, number>> = {},
    fold: (head: Job) => number = () => 0,
  ): Promise<Claimed[]> {
    const lease = now + leaseMs;
    return this.sql.claim({ now, lease, max }, pausedOrgs, served, (head) => {
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
    // Most lanes hold one job (a participant's events seldom queue up): a read of the lane index
    // says so for a fraction of the update below (6 % of the server's CPU for distinct lanes).
    if (!this.sql.behind.get({ lane: head.lane, after: head.id })) return [];
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
    const settled = await this.settleGrouped({ s, now });
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
    return { byStatus: presentStatuses(rows), oldestCreatedAt: oldest };
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
   * Claimable: ready and pending, or running with its lease run out (its worker died; that counts
   * as a failed attempt). Only a lane's head (its oldest unfinished job) is claimable, so a job
   * waiting for a retry holds its lane and later jobs cannot overtake it. Orgs with fewer running
   * jobs, then the org served longest ago, go first (fairness; see orgBatches), then the oldest
   * head; paused orgs (no budget, rate limited) are skipped without blocking anyone else.
   *
   * Nothing ranks every candidate: a backlog of 1M jobs costs what 1k does. The orgs with pending
   * jobs come from a skip scan of jobs_pending (one seek an org), the running ones from the few
   * running rows; the orgs are ranked in JS and looked at a batch at a time, each org's oldest
   * ready head found by walking its jobs_pending entries oldest first (the first that heads its
   * lane, usually the first entry). It all runs in one transaction, so it is one atomic step.
   */
  const pendingOrgs = sqlite
    .prepare(
      `with recursive o(org) as (
         select (select min(org_id) from jobs indexed by jobs_pending where status = 'pending')
         union all
         select (select min(org_id) from jobs indexed by jobs_pending where status = 'pending' and org_id > o.org)
         from o where o.org is not null)
       select org from o where org is not null`,
    )
    .pluck();
  /*
   * The orgs with pending jobs, re-read at most every ORGS_TTL_MS: the skip scan is one seek an
   * org (about 2 ms for 1,000 orgs over 1M jobs, most of a claim if done for each). Enqueue adds
   * its orgs at once (one process owns a SQLite queue, so that is every new org), running ones are
   * added by every claim; an org whose jobs are gone costs a lookup that finds nothing until the
   * next read. Only rows written around this queue wait up to ORGS_TTL_MS to be seen.
   */
  const known = { orgs: new Set<string>(), readAt: Number.NEGATIVE_INFINITY };
  const knownOrgs = (): Set<string> => {
    const t = performance.now();
    if (t - known.readAt >= ORGS_TTL_MS) {
      known.orgs = new Set(pendingOrgs.all() as string[]);
      known.readAt = t;
    }
    return known.orgs;
  };
  const noteOrgs = (orgs: readonly string[]) => {
    for (const org of orgs) known.orgs.add(org);
  };
  const runningOrgs = sqlite.prepare(
    `select org_id as org, sum(locked_until >= @now) as live from jobs where status = 'running' group by org_id`,
  );
  // Each org's oldest ready lane head.
  const heads = sqlite.prepare(
    `select j.id, j.org_id, j.run_at from json_each(@orgs) o join jobs j on j.id = (
       select h.id from jobs h indexed by jobs_pending
       where h.org_id = o.value and h.status = 'pending' and h.run_at <= @now
         and not exists (select 1 from jobs e where e.lane = h.lane and e.status in ('pending', 'running') and e.id < h.id)
       order by h.run_at, h.id limit 1)`,
  );
  // The oldest ready lane head of the orgs among the oldest ready jobs of all (see WIDE_RANK):
  // `horizon`, the run_at OLDEST_SCAN pending jobs in, bounds the walk (read from the index alone).
  const horizon = sqlite
    .prepare(
      `select run_at from jobs indexed by jobs_ready where status = 'pending' order by run_at limit 1 offset ${OLDEST_SCAN}`,
    )
    .pluck();
  const oldestHead = sqlite.prepare(
    `select j.id, j.org_id, j.run_at from jobs j indexed by jobs_ready
     where j.status = 'pending' and j.run_at <= min(@now, @horizon) and j.org_id in (select value from json_each(@orgs))
       and not exists (select 1 from jobs e where e.lane = j.lane and e.status in ('pending', 'running') and e.id < j.id)
     order by j.run_at, j.id limit 1`,
  );
  // Jobs whose run died (lease run out) and that still head their lanes: few, from the running rows.
  const expiredHeads = sqlite.prepare(
    `select j.id, j.org_id, j.run_at from jobs j indexed by jobs_ready
     where j.status = 'running' and j.locked_until < @now
       and not exists (select 1 from jobs e where e.lane = j.lane and e.status in ('pending', 'running') and e.id < j.id)`,
  );
  const take = sqlite.prepare(
    `update jobs set status = 'running', locked_until = @lease, owner = @owner, updated_at = @now,
         attempts = attempts + (case when status = 'running' then 1 else 0 end),
         last_error = case when status = 'running' then 'lease expired' else last_error end
       where id = @id and ((status = 'pending' and run_at <= @now) or (status = 'running' and locked_until < @now))
       returning *`,
  );
  type Head = { id: string; org_id: string; run_at: number };
  /**
   * What a claim transaction ranks orgs by: each org's live runs, and the heads whose run died.
   * Read once a transaction and kept up to date by `took` as it claims (nothing else writes jobs
   * meanwhile). Read again for each claim, as before: the delivery case's claims took 2.0–2.2 s of
   * CPU, against 1.77–1.87 s now (BENCH_TXSTAT).
   */
  const rankState = (now: number) => {
    const orgs = new Map<string, number>();
    for (const org of knownOrgs()) orgs.set(org, 0);
    for (const r of runningOrgs.all({ now }) as Array<{ org: string; live: number }>) {
      orgs.set(r.org, r.live);
      known.orgs.add(r.org); // a run settled back to pending keeps its org claimable
    }
    let dead = expiredHeads.all({ now }) as Head[];
    return {
      orgs,
      dead: () => dead,
      /** A head and `folded` jobs behind it are live runs of its org now. */
      took(head: Job, folded: number) {
        orgs.set(head.orgId, (orgs.get(head.orgId) ?? 0) + 1 + folded);
        dead = dead.filter((h) => h.id !== head.id);
      },
    };
  };
  /** The best claimable head, or undefined. */
  const claimOne = (
    params: { now: number; lease: number; owner: string },
    pausedOrgs: readonly string[],
    served: Readonly<Record<string, number>>,
    state: ReturnType<typeof rankState>,
  ): JobRow | undefined => {
    const dead = state.dead();
    for (const batch of orgBatches(state.orgs, pausedOrgs, served)) {
      const args = { orgs: JSON.stringify(batch.map((o) => o.org)), now: params.now };
      const expired = dead.filter((h) => batch.some((o) => o.org === h.org_id));
      const oldest = wideRank(batch)
        ? (oldestHead.all({ ...args, horizon: (horizon.get() as number | undefined) ?? args.now }) as Head[])
        : [];
      const found = oldest.length > 0 ? oldest : (heads.all(args) as Head[]);
      const best = byRank(batch, [...found, ...expired])[0];
      if (best) return take.get({ ...params, id: best.id }) as JobRow | undefined;
    }
    return undefined;
  };
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
  // Several claims share the transaction; each counts the ones before it as running and served.
  const claim = sqlite.transaction(
    (
      params: { now: number; lease: number; max: number },
      pausedOrgs: readonly string[],
      served: Readonly<Record<string, number>>,
      foldFor: (head: Job) => Job[],
    ): Claimed[] => {
      const seen = { ...served };
      let tick = Math.max(0, ...Object.values(seen));
      const out: Claimed[] = [];
      const state = rankState(params.now);
      while (out.length < params.max) {
        const row = claimOne(
          { now: params.now, lease: params.lease, owner: newOwner() },
          pausedOrgs,
          seen,
          state,
        );
        if (!row) break;
        const head = toJob(row);
        seen[head.orgId] = ++tick;
        const followers = foldFor(head);
        state.took(head, followers.length);
        out.push({ ...head, followers });
      }
      return out;
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
  // Each run's settle in a savepoint of the batch's transaction: one that fails fails alone.
  const settleMany = sqlite.transaction((batch: Array<{ s: Settle; now: number }>) =>
    batch.map(({ s, now }) => {
      try {
        return settle(s, now);
      } catch (err) {
        return new Failed(err);
      }
    }),
  );
  const extend = sqlite.prepare(
    `update jobs set locked_until = @lease, updated_at = @now
     where owner in (select value from json_each(@owners)) and status = 'running'`,
  );
  const counts = sqlite.prepare(
    `select count(*) as pending, min(created_at) as oldest from jobs where status in ('pending', 'running') and org_id = ?`,
  );
  const behind = sqlite.prepare(
    `select 1 from jobs where lane = @lane and status in ('pending', 'running') and id > @after limit 1`,
  );
  // A dead run's jobs (still naming its owner), then ready ones; `union` drops the overlap. Every
  // lane lookup spells out `status in ('pending', 'running')`: SQLite uses the partial jobs_lane
  // index only for a query that states its condition (`status = 'pending'` alone read jobs_ready).
  const followers = sqlite.prepare(
    `update jobs set status = 'running', locked_until = @lease, owner = @owner, updated_at = @now
     where id in (
       select id from jobs where lane = @lane and id > @after and status in ('pending', 'running')
         and owner is not null and owner != @owner
       union
       select id from (select id from jobs where lane = @lane and status in ('pending', 'running')
         and status = 'pending' and run_at <= @now and id > @after order by id limit @limit))
     returning *`,
  );
  const recover = sqlite.prepare(
    `update jobs set status = 'pending', locked_until = null, run_at = @now, updated_at = @now,
       attempts = attempts + 1, last_error = 'interrupted: the process stopped while it ran'
     where status = 'running'`,
  );
  // Unfinished jobs from their indexes (as many as the backlog); finished ones from the counts the
  // triggers keep (a week of them took 40 ms a million to count).
  const byStatus = sqlite.prepare(
    `select 'pending' as status, count(*) as n from jobs where status = 'pending'
     union all select 'running', count(*) from jobs where status = 'running'
     union all select status, sum(n) from finished_job_counts group by status`,
  );
  const oldestUnfinished = sqlite
    .prepare("select min(created_at) from jobs indexed by jobs_oldest where status in ('pending', 'running')")
    .pluck();
  return {
    insert,
    byKey,
    noteOrgs,
    claim,
    settleMany,
    extend,
    counts,
    behind,
    followers,
    recover,
    byStatus,
    oldestUnfinished,
  };
}
