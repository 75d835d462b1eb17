import { and, eq, inArray, min, sql } from 'drizzle-orm';
import { appendAuditManyPg } from '../audit/pg-store.js';
import type { PgDatabase, PgTx } from '../db/pg/client.js';
import { jobs } from '../db/pg/schema.js';
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

/** The NOTIFY channel an enqueue (or a retry) announces work on, to every instance. */
export const JOBS_CHANNEL = 'relay_jobs';

/**
 * The class of the two-key advisory locks that hold a lane while a claim takes its head (the
 * second key is the lane's hash). Two-key locks live apart from the one-key ones (the audit
 * chain's per-org lock), so the two never collide.
 */
const LANE_LOCK_CLASS = 7_412;

/** Lane heads fetched per claim: the first one whose lane is free (not being claimed) is taken. */
const CANDIDATES = 8;

/**
 * A key as PostgreSQL stores it: its text type cannot hold NUL, which the delivery keys use as a
 * separator (`event \0 replay \0 target`). Backslashes are doubled first, so two keys stay two.
 * Readers that look keys up by prefix encode the prefix the same way.
 */
export const pgIdempotencyKey = (key: string): string => key.replaceAll('\\', '\\\\').replaceAll('\0', '\\0');

/** A row as raw SQL returns it: postgres.js hands bigint columns back as strings. */

/**
 * The durable queue on PostgreSQL, shared by any number of instances (graphile-worker's shape).
 *
 * Claiming, and why one lane never runs two jobs at once across instances:
 * 1. One statement picks up to CANDIDATES lane heads (claimable jobs with no older unfinished job
 *    in their lane and no other job of it running on a live lease), fairest first, `FOR UPDATE SKIP LOCKED`: a head another transaction is
 *    claiming or settling right now is skipped without waiting, so instances never queue behind
 *    each other and never take the same job.
 * 2. A head row lock alone does not own its lane: ids come from each instance's clock, so a job
 *    committed late may sort before the lane's running head and look like a second head to a
 *    concurrent claim (whose snapshot does not see the first claim yet). So for each candidate
 *    the claim then takes the lane's transaction-scoped advisory lock with `pg_try_advisory_xact_lock`
 *    (never waiting: a lane being claimed elsewhere is skipped, like a locked row).
 * 3. Holding it, one `update … returning` (a fresh snapshot, taken after the lock: every claim of
 *    the lane that committed before is visible, and none can be in progress) re-checks that the
 *    job is still claimable, is still its lane's oldest unfinished job, and that no other job of
 *    the lane is running on a live lease; only then it leases it. Its followers are leased in the
 *    same transaction, still under the lane lock, so no other run sees a head without them.
 * The update is a compare-and-swap in its own right (PostgreSQL re-checks its `where` on a row
 * another transaction changed meanwhile), so the row lock and SKIP LOCKED are there for speed
 * (nobody waits on a row another instance is taking); the lane lock is what keeps a lane to one
 * running job when ids arrive out of order.
 * Every later state change (settle, extend) names the owner, as graphile-worker's `locked_by`, so
 * a run whose lease ran out and whose job was claimed again can change nothing.
 *
 * Nothing here recovers other instances' jobs at start: a crashed instance's runs come back when
 * their leases run out (claimable again, the lost run counted as an attempt).
 */
export class PgJobQueue implements JobQueue {
  private readonly listeners = new Set<() => void>();
  private listening: Promise<{ unlisten(): Promise<void> } | undefined> | undefined;
  private closed = false;

  constructor(private readonly database: PgDatabase) {}

  /**
   * Adds jobs inside the caller's transaction (the change that causes them). Returns each job's id
   * (the existing one for a repeated key). A NOTIFY in the same transaction wakes every instance's
   * runners when it commits; this instance's are also poked at once.
   */
  async enqueue(tx: PgTx, newJobs: readonly NewJob[], now: number): Promise<string[]> {
    if (newJobs.length === 0) return [];
    // One insert for the whole batch: processing commits hold their orgs' audit locks meanwhile,
    // and one statement per job kept ingest waiting on them (50 events/s with three instances).
    const rows = newJobs.map((j) => ({
      id: newId('job', now),
      kind: j.kind,
      orgId: j.orgId,
      // Lanes join their parts with \0 too (laneOf).
      lane: pgIdempotencyKey(j.lane),
      payload: JSON.stringify(j.payload),
      status: 'pending' as const,
      attempts: 0,
      maxAttempts: j.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      runAt: j.runAt ?? now,
      idempotencyKey: j.idempotencyKey === undefined ? null : pgIdempotencyKey(j.idempotencyKey),
      createdAt: now,
      updatedAt: now,
    }));
    const inserted = new Set(
      (
        await tx
          .insert(jobs)
          .values(rows)
          .onConflictDoNothing({ target: [jobs.kind, jobs.idempotencyKey] })
          .returning({ id: jobs.id })
      ).map((r) => r.id),
    );
    // A repeated key keeps its existing job: look those up, one query for all of them.
    const repeated = rows.filter((r) => !inserted.has(r.id));
    const existing = new Map<string, string>();
    if (repeated.length > 0) {
      const found = await tx
        .select({ id: jobs.id, kind: jobs.kind, key: jobs.idempotencyKey })
        .from(jobs)
        .where(
          inArray(
            jobs.idempotencyKey,
            repeated.map((r) => r.idempotencyKey!),
          ),
        );
      for (const f of found) existing.set(`${f.kind}\n${f.key}`, f.id);
    }
    const ids = rows.map((r) =>
      inserted.has(r.id) ? r.id : existing.get(`${r.kind}\n${r.idempotencyKey}`)!,
    );
    if (newJobs.length > 0) {
      await tx.execute(sql`select pg_notify(${JOBS_CHANNEL}, '')`);
      setImmediate(() => this.emit());
    }
    return ids;
  }

  async claim(
    now: number,
    leaseMs: number,
    pausedOrgs: readonly string[] = [],
    served: Readonly<Record<string, number>> = {},
    fold: (head: Job) => number = () => 0,
  ): Promise<Claimed | undefined> {
    const owner = newOwner();
    const lease = now + leaseMs;
    return this.database.db.transaction(async (tx) => {
      const candidates = (await tx.execute(sql`
        select j.id, j.lane from jobs j
        where ((j.status = 'pending' and j.run_at <= ${now}) or (j.status = 'running' and j.locked_until < ${now}))
          and not exists (select 1 from jobs e where e.lane = j.lane and e.id <> j.id and (
            (e.status in ('pending', 'running') and e.id < j.id) or (e.status = 'running' and e.locked_until >= ${now})))
          and j.org_id not in (select jsonb_array_elements_text(${JSON.stringify(pausedOrgs)}::jsonb))
        order by (select count(*) from jobs c where c.org_id = j.org_id and c.status = 'running' and c.locked_until >= ${now}),
          coalesce((${JSON.stringify(served)}::jsonb ->> j.org_id)::double precision, 0),
          j.run_at, j.id
        limit ${CANDIDATES}
        for update of j skip locked`)) as unknown as Array<{ id: string; lane: string }>;
      for (const c of candidates) {
        const [lock] = (await tx.execute(
          sql`select pg_try_advisory_xact_lock(${LANE_LOCK_CLASS}::int, hashtext(${c.lane})) as ok`,
        )) as unknown as Array<{ ok: boolean }>;
        if (!lock?.ok) continue;
        const [row] = (await tx.execute(sql`
          update jobs set status = 'running', locked_until = ${lease}, owner = ${owner}, updated_at = ${now},
            attempts = attempts + (case when status = 'running' then 1 else 0 end),
            last_error = case when status = 'running' then 'lease expired' else last_error end
          where id = ${c.id}
            and ((status = 'pending' and run_at <= ${now}) or (status = 'running' and locked_until < ${now}))
            and not exists (select 1 from jobs e where e.lane = jobs.lane and e.id <> jobs.id and (
              (e.status in ('pending', 'running') and e.id < jobs.id)
              or (e.status = 'running' and e.locked_until >= ${now})))
          returning *`)) as unknown as JobRow[];
        if (!row) continue;
        const head = toJob(row);
        const limit = fold(head);
        return { ...head, followers: await this.takeFollowers(tx, head, now, lease, limit) };
      }
      return undefined;
    });
  }

  /**
   * The jobs queued behind a claimed head in its lane, leased to the head's owner (oldest first):
   * always every job a dead run had folded (they still name its owner), then ready ones up to
   * `limit`. Runs under the lane lock of the claim, so no other run can be holding any of them.
   */
  private async takeFollowers(tx: PgTx, head: Job, now: number, lease: number, limit: number) {
    if (limit <= 0) return [];
    const rows = (await tx.execute(sql`
      update jobs set status = 'running', locked_until = ${lease}, owner = ${head.owner}, updated_at = ${now}
      where id in (
        select id from jobs where lane = ${head.lane} and id > ${head.id} and status in ('pending', 'running')
          and owner is not null and owner <> ${head.owner}
        union
        (select id from jobs where lane = ${head.lane} and status = 'pending' and run_at <= ${now}
          and id > ${head.id} order by id limit ${limit}))
      returning *`)) as unknown as JobRow[];
    return rows.map(toJob).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /**
   * Ends a run in one transaction: the head's new state, its followers', and the run's audit rows.
   * Nothing is written unless the run still owns the head: returns false then.
   */
  async settle(s: Settle, now: number): Promise<boolean> {
    const o = s.outcome;
    const owned = and(eq(jobs.id, s.job.id), eq(jobs.owner, s.job.owner), eq(jobs.status, 'running'));
    const released = { lockedUntil: null, owner: null, updatedAt: now };
    const settled = await this.database.db.transaction(async (tx) => {
      const changed = await tx
        .update(jobs)
        .set(
          o.status === 'succeeded'
            ? { ...released, status: 'succeeded', lastError: null, attempts: sql`${jobs.attempts} + 1` }
            : o.status === 'pending'
              ? {
                  ...released,
                  status: 'pending',
                  runAt: o.runAt,
                  lastError: o.error,
                  attempts: sql`${jobs.attempts} + ${o.countAttempt ? 1 : 0}`,
                }
              : {
                  ...released,
                  status: 'failed',
                  lastError: o.error,
                  attempts: sql`${jobs.attempts} + ${o.countAttempt ? 1 : 0}`,
                },
        )
        .where(owned)
        .returning({ id: jobs.id });
      if (changed.length !== 1) return false;
      const followerIds = (s.followers ?? []).map((j) => j.id);
      if (followerIds.length > 0) {
        const theirs = and(
          inArray(jobs.id, followerIds),
          eq(jobs.owner, s.job.owner),
          eq(jobs.status, 'running'),
        );
        await tx
          .update(jobs)
          .set(
            o.status === 'succeeded'
              ? { ...released, status: 'succeeded', lastError: null, attempts: s.job.attempts + 1 }
              : { ...released, status: 'pending' },
          )
          .where(theirs);
      }
      await appendAuditManyPg(tx, s.audit ?? []);
      const wake = o.status === 'pending' || followerIds.length > 0;
      if (wake) await tx.execute(sql`select pg_notify(${JOBS_CHANNEL}, '')`);
      return true;
    });
    if (settled && (o.status === 'pending' || (s.followers?.length ?? 0) > 0)) this.emit();
    return settled;
  }

  /** Keeps the leases of live runs (their owners: heads and followers) from running out. */
  async extend(owners: readonly string[], now: number, leaseMs: number): Promise<void> {
    if (owners.length === 0) return;
    await this.database.db
      .update(jobs)
      .set({ lockedUntil: now + leaseMs, updatedAt: now })
      .where(and(inArray(jobs.owner, [...owners]), eq(jobs.status, 'running')));
  }

  /**
   * Several instances share this queue, so a running job at start may well be another live
   * instance's: nothing is taken back here. A dead instance's jobs become claimable when their
   * leases run out (the claim counts the lost attempt and refolds their followers).
   */
  async recoverAbandoned(_now: number): Promise<number> {
    return 0;
  }

  async backlog(orgId: string): Promise<{ pending: number; oldestCreatedAt: number | null }> {
    const [r] = await this.database.db
      .select({ pending: sql<number>`count(*)::int`, oldest: min(jobs.createdAt) })
      .from(jobs)
      .where(and(eq(jobs.orgId, orgId), inArray(jobs.status, ['pending', 'running'])));
    return { pending: r?.pending ?? 0, oldestCreatedAt: r?.oldest == null ? null : Number(r.oldest) };
  }

  async depth(): Promise<{ byStatus: Record<string, number>; oldestCreatedAt: number | null }> {
    const rows = await this.database.db
      .select({ status: jobs.status, n: sql<number>`count(*)::int` })
      .from(jobs)
      .groupBy(jobs.status);
    const [oldest] = await this.database.db
      .select({ at: min(jobs.createdAt) })
      .from(jobs)
      .where(inArray(jobs.status, ['pending', 'running']));
    return {
      byStatus: Object.fromEntries(rows.map((r) => [r.status, r.n])),
      oldestCreatedAt: oldest?.at == null ? null : Number(oldest.at),
    };
  }

  /**
   * Called when work may be ready: after this instance's enqueue and retry, and on a NOTIFY from
   * any instance (LISTEN starts with the first listener; the runner's poll covers a lost one).
   */
  onWork(listener: () => void): () => void {
    this.listeners.add(listener);
    this.listening ??= this.database.sql.listen(JOBS_CHANNEL, () => this.emit()).catch(() => undefined);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once LISTEN is in place (tests wait for it before another instance notifies). */
  async ready(): Promise<void> {
    await this.listening;
  }

  /** Stops listening; the database handle itself belongs to the caller. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const l = await this.listening;
    await l?.unlisten().catch(() => {});
  }

  private emit(): void {
    if (this.closed) return;
    for (const l of this.listeners) l();
  }
}
