import { and, eq, inArray, min, sql } from 'drizzle-orm';
import { appendAuditManyPg } from '../audit/pg-store.js';
import type { PgDatabase, PgTx } from '../db/pg/client.js';
import { insertRows } from '../db/pg/insert-rows.js';
import { retried } from '../db/pg/retried.js';
import { jobs } from '../db/pg/schema.js';
import { groupCommit } from '../lib/group-commit.js';
import { newId } from '../lib/ids.js';
import { storableText } from '../lib/text.js';
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

/** The NOTIFY channel an enqueue (or a retry) announces work on, to every instance. */
export const JOBS_CHANNEL = 'relay_jobs';

/**
 * The class of the two-key advisory locks that hold a lane while a claim takes its head (the
 * second key is the lane's hash). Two-key locks live apart from the one-key ones (the audit
 * chain's per-org lock), so the two never collide.
 */
export const LANE_LOCK_CLASS = 7_412;

/** Lane heads looked up at a time among the oldest jobs (WIDE_RANK), and per org otherwise. */
const CANDIDATES = 8;
const PER_ORG = 2;
/**
 * Heads a claim tries to lock before it gives up (each one found taken by a concurrent claim):
 * the runner claims again on the next wake-up or poll.
 */
const MAX_TRIES = 32;
/** A NOTIFY payload longer than this names no orgs (PostgreSQL's limit is 8,000 bytes). */
const NOTIFY_ORGS_BYTES = 7_000;

/**
 * A key as PostgreSQL stores it: its text type cannot hold NUL, which the delivery keys use as a
 * separator (`event \0 replay \0 target`). Backslashes are doubled first, so two keys stay two.
 * Readers that look keys up by prefix encode the prefix the same way.
 */
export const pgIdempotencyKey = (key: string): string => key.replaceAll('\\', '\\\\').replaceAll('\0', '\\0');

/** A head a claim took, and whether jobs wait behind it in its lane. */
type Taken = { row: JobRow; behind: boolean };

/** A lane head as the claim's lookups return it (postgres.js hands bigint columns back as strings). */
type Head = { id: string; org_id: string; run_at: string; lane: string; behind: boolean };

/**
 * One claimSome's progress: heads tried, takes lost to other instances, and the heads its last
 * lookup found that are still to take, with the orgs taken from since that lookup.
 */
interface ClaimState {
  tried: Set<string>;
  missed: number;
  found: Head[];
  taken: Set<string>;
}

/**
 * A set as a JSON object whose keys are its members: `jsonb_exists` looks a key up by binary
 * search (an array's `= any` compares one by one, 7 ms a claim over 1,000 orgs and 1,000 jobs).
 */
const jsonSet = (members: Iterable<string>): string =>
  JSON.stringify(Object.fromEntries([...members].map((m) => [m, 1])));

/** What an enqueue or a retry NOTIFYs: the orgs with new pending jobs, or '' (unknown: re-read). */
const notifyPayload = (orgs: Iterable<string>): string => {
  const json = JSON.stringify([...new Set(orgs)]);
  return Buffer.byteLength(json) <= NOTIFY_ORGS_BYTES ? json : '';
};

/**
 * The found heads the one-at-a-time order takes next (see takeFound), up to `room`, as if each
 * take succeeds: the first head of each org not taken from since the lookup, while its org has no
 * more runs than the least busy org taken from. Removes them, and the heads passed over, from
 * `state.found`; a head whose org ranks too low ends the lookup's list.
 */
function inRankOrder(orgs: ReadonlyMap<string, number>, state: ClaimState, room: number): Head[] {
  // The runs of the orgs taken from, with each pick counted as one more.
  const runs = new Map([...state.taken].map((org) => [org, orgs.get(org) ?? 0]));
  const picks: Head[] = [];
  while (picks.length < room && state.found.length > 0) {
    const c = state.found[0]!;
    if (state.tried.has(c.id) || runs.has(c.org_id)) {
      state.found.shift();
      continue;
    }
    if ((orgs.get(c.org_id) ?? 0) > Math.min(...runs.values())) {
      state.found = [];
      break;
    }
    state.found.shift();
    picks.push(c);
    runs.set(c.org_id, (orgs.get(c.org_id) ?? 0) + 1);
  }
  return picks;
}

/**
 * The durable queue on PostgreSQL, shared by any number of instances (graphile-worker's shape).
 *
 * Claiming, and why one lane never runs two jobs at once across instances:
 * 1. Heads are found org first, as on SQLite (nothing ranks every candidate job, so 1M pending jobs
 *    cost about what 1k do): the orgs with pending jobs (see knownOrgs) and each org's count of
 *    jobs running on live leases are ranked in JS (orgBatches: fewer running first, then `served`,
 *    paused orgs left out); for the best batch, one query finds each org's oldest ready lane heads
 *    (claimable jobs with no older unfinished job in their lane and no other job of it running on a
 *    live lease) from jobs_pending, or among the oldest ready jobs of all when the batch is the
 *    wide rank of orgs nobody served yet (WIDE_RANK). byRank orders them; the ones the ranking
 *    lets go next (inRankOrder) are taken together with `FOR UPDATE SKIP LOCKED`: a head another
 *    transaction is claiming or settling right now is skipped without waiting, so instances never
 *    queue behind each other and never take the same job (when every head found is taken, the
 *    batch is looked up again without them).
 * 2. A head row lock alone does not own its lane: ids come from each instance's clock, so a job
 *    committed late may sort before the lane's running head and look like a second head to a
 *    concurrent claim (whose snapshot does not see the first claim yet). So in the same statement
 *    the claim takes the lane's transaction-scoped advisory lock with `pg_try_advisory_xact_lock`
 *    (never waiting: a lane being claimed elsewhere is skipped, like a locked row).
 * 3. Holding them, one `update … returning` (a fresh snapshot, taken after the locks: every claim
 *    of the lanes that committed before is visible, and none can be in progress) re-checks that
 *    each job is still claimable, is still its lane's oldest unfinished job, and that no other job of
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
  /** LISTEN is in place: NOTIFYs keep `orgs` up to date (see knownOrgs). */
  private listened = false;
  private closed = false;
  /** The orgs with pending jobs as last read, plus those NOTIFYs named since (see knownOrgs). */
  private orgs = new Set<string>();
  private orgsReadAt = Number.NEGATIVE_INFINITY;
  /** A NOTIFY named no orgs, or LISTEN was (re)established: read the orgs again. */
  private orgsStale = true;
  /** Reads of the orgs in progress: each collects the orgs noted while it runs. */
  private readonly reads = new Set<Set<string>>();

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
        await insertRows<typeof jobs, { id: string }>(
          tx,
          jobs,
          rows,
          sql`on conflict (kind, idempotency_key) do nothing returning id`,
        )
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
      const orgs = newJobs.map((j) => j.orgId);
      this.noteOrgs(orgs);
      await tx.execute(sql`select pg_notify(${JOBS_CHANNEL}, ${notifyPayload(orgs)})`);
      setImmediate(() => this.emit());
    }
    return ids;
  }

  /**
   * Up to `max` claims in one transaction, each made after the ones before it
   * (their orgs count as running and just served): a runner filling 64 free slots pays one
   * BEGIN/COMMIT and one read of the running rows, not 64.
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
    this.listen();
    const known = await this.knownOrgs();
    return this.database.db.transaction(async (tx) => {
      // Live running jobs per org (fairness), and whether any lease ran out: the running rows
      // are few (the runs in flight and their followers), whatever the backlog.
      const running = (await tx.execute(sql`
        select org_id as org, count(*) filter (where locked_until >= ${now})::int as live,
          count(*) filter (where locked_until < ${now})::int as dead
        from jobs where status = 'running' group by org_id`)) as unknown as Array<{
        org: string;
        live: number;
        dead: number;
      }>;
      const orgs = new Map<string, number>();
      for (const org of known) orgs.set(org, 0);
      for (const r of running) {
        orgs.set(r.org, r.live);
        this.orgs.add(r.org); // a run settled back to pending keeps its org claimable
      }
      // Jobs whose run died (lease run out) and that still head their lanes.
      const dead = running.some((r) => r.dead > 0)
        ? ((await tx.execute(sql`
            select j.id, j.org_id, j.run_at, j.lane, exists (select 1 from jobs b where b.lane = j.lane and b.id > j.id and b.status in ('pending', 'running')) as behind from jobs j
            where j.status = 'running' and j.locked_until < ${now}
              and not exists (select 1 from jobs e where e.lane = j.lane and e.status in ('pending', 'running')
                and e.id < j.id)
              and not exists (select 1 from jobs e where e.lane = j.lane and e.status = 'running'
                and e.locked_until >= ${now} and e.id <> j.id)`)) as unknown as Head[])
        : [];
      const seen = { ...served };
      let tick = Math.max(0, ...Object.values(seen));
      const state: ClaimState = { tried: new Set<string>(), missed: 0, found: [], taken: new Set() };
      const out: Claimed[] = [];
      while (out.length < max) {
        const taken = await this.claimBest(
          tx,
          orgs,
          dead,
          state,
          pausedOrgs,
          seen,
          now,
          lease,
          max - out.length,
        );
        if (taken.length === 0) break;
        for (const t of taken) {
          const head = toJob(t.row);
          orgs.set(head.orgId, (orgs.get(head.orgId) ?? 0) + 1);
          seen[head.orgId] = ++tick;
          // Most lanes hold one job: the lookup said whether any waits behind this head.
          const followers = t.behind ? await this.takeFollowers(tx, head, now, lease, fold(head)) : [];
          out.push({ ...head, followers });
        }
      }
      return out;
    });
  }

  /**
   * The best claimable heads (up to `room`), taken for new owners; none when none is (or MAX_TRIES
   * were taken elsewhere).
   */
  private async claimBest(
    tx: PgTx,
    orgs: ReadonlyMap<string, number>,
    dead: readonly Head[],
    state: ClaimState,
    pausedOrgs: readonly string[],
    served: Readonly<Record<string, number>>,
    now: number,
    lease: number,
    room: number,
  ): Promise<Taken[]> {
    const { tried } = state;
    const again = await this.takeFound(tx, orgs, state, now, lease, room);
    if (again !== 'look') return again;
    // The found heads ran out (or their orgs no longer rank first): look.
    for (const batch of orgBatches(orgs, pausedOrgs, served)) {
      const inBatch = new Set(batch.map((o) => o.org));
      const list = jsonSet(inBatch);
      let wide = wideRank(batch);
      for (;;) {
        const skip = jsonSet(tried);
        const expired = dead.filter((h) => inBatch.has(h.org_id) && !tried.has(h.id));
        const oldest = wide ? await this.oldestHeads(tx, list, skip, now) : [];
        const found = oldest.length > 0 ? oldest : await this.orgHeads(tx, list, skip, now);
        // Nothing among the oldest jobs: this batch's heads are further in, org by org.
        if (wide && oldest.length === 0) wide = false;
        state.found = byRank(batch, [...found, ...expired]);
        state.taken = new Set();
        if (state.found.length === 0) break;
        const taken = await this.takeFound(tx, orgs, state, now, lease, room);
        if (taken !== 'look') return taken;
        // Every head found was being claimed elsewhere: look again past them.
      }
    }
    return [];
  }

  /**
   * Takes the best of the heads the last lookup found, best first (each one tried once), and
   * keeps the rest for the next claim of the transaction: a lookup was a third of a claim's
   * statements. Exact while it lasts: the lookup's orgs were a prefix of the ranking and their
   * order holds for every org not taken from since; an org taken from now ranks after every org
   * with as many runs as it (it was served last), so the found heads serve only while their org
   * has no more runs than the least busy of those. The heads that order allows are taken together
   * (see takeMany). 'look': do a lookup.
   */
  private async takeFound(
    tx: PgTx,
    orgs: ReadonlyMap<string, number>,
    state: ClaimState,
    now: number,
    lease: number,
    room: number,
  ): Promise<Taken[] | 'look'> {
    while (state.found.length > 0) {
      if (state.missed >= MAX_TRIES) return [];
      const picks = inRankOrder(orgs, state, Math.min(room, MAX_TRIES - state.missed));
      if (picks.length === 0) break;
      for (const c of picks) state.tried.add(c.id);
      const rows = await this.takeMany(tx, picks, now, lease);
      const taken = picks.flatMap((c) => {
        const row = rows.get(c.id);
        return row ? [{ row, behind: c.behind }] : [];
      });
      state.missed += picks.length - taken.length;
      for (const t of taken) state.taken.add(t.row.org_id);
      if (taken.length > 0) return taken;
    }
    state.found = [];
    return 'look';
  }

  /**
   * Each org's oldest ready lane heads (PER_ORG of them, run_at then id): a walk of its
   * jobs_pending entries oldest first, usually ending at the first. `orgs` and `skip` (ids already
   * tried) are sets as JSON objects (see jsonSet).
   */
  private async orgHeads(tx: PgTx, orgs: string, skip: string, now: number): Promise<Head[]> {
    return (await tx.execute(sql`
      select h.id, h.org_id, h.run_at, h.lane, exists (select 1 from jobs b where b.lane = h.lane and b.id > h.id and b.status in ('pending', 'running')) as behind from jsonb_object_keys(${orgs}::jsonb) o(org)
      cross join lateral (
        select j.id, j.org_id, j.run_at, j.lane from jobs j
        where j.org_id = o.org and j.status = 'pending' and j.run_at <= ${now}
          and not jsonb_exists(${skip}::jsonb, j.id)
          and not exists (select 1 from jobs e where e.lane = j.lane and e.status in ('pending', 'running') and e.id < j.id)
          and not exists (select 1 from jobs e where e.lane = j.lane and e.status = 'running'
            and e.locked_until >= ${now} and e.id <> j.id)
        order by j.run_at, j.id limit ${PER_ORG}) h`)) as unknown as Head[];
  }

  /**
   * The oldest ready lane heads of `orgs` among the OLDEST_SCAN oldest ready jobs of all (see
   * WIDE_RANK): exact when it finds any, since every head of theirs not looked at is newer.
   */
  private async oldestHeads(tx: PgTx, orgs: string, skip: string, now: number): Promise<Head[]> {
    return (await tx.execute(sql`
      select j.id, j.org_id, j.run_at, j.lane, exists (select 1 from jobs b where b.lane = j.lane and b.id > j.id and b.status in ('pending', 'running')) as behind from (
        select id, org_id, run_at, lane from jobs where status = 'pending' and run_at <= ${now}
        order by run_at, id limit ${OLDEST_SCAN}) j
      where jsonb_exists(${orgs}::jsonb, j.org_id)
        and not jsonb_exists(${skip}::jsonb, j.id)
        and not exists (select 1 from jobs e where e.lane = j.lane and e.status in ('pending', 'running') and e.id < j.id)
        and not exists (select 1 from jobs e where e.lane = j.lane and e.status = 'running'
          and e.locked_until >= ${now} and e.id <> j.id)
      order by j.run_at, j.id limit ${CANDIDATES}`)) as unknown as Head[];
  }

  /**
   * Takes heads found by a lookup, each for an owner of its own, and returns the rows of those it
   * took: their row locks (a row another transaction holds is skipped), their lanes' advisory
   * locks (skipped likewise), then the compare-and-swap, in a statement of its own so its
   * snapshot follows the lane locks. Two statements for the heads of a lookup, not two for each:
   * statements are what the relay pays for here (its writes to the database's socket were 42 % of
   * its CPU profile, and takes 24,000 of ~45,000 statements for 12,000 events). Perf bench,
   * delivery case: 1.15 → 0.88–0.98 ms of relay CPU a delivered event, 437–465 → 523–578 patched/s.
   */
  private async takeMany(
    tx: PgTx,
    heads: readonly Head[],
    now: number,
    lease: number,
  ): Promise<Map<string, JobRow>> {
    const ids = JSON.stringify(heads.map((h) => h.id));
    const locks = (await tx.execute(sql`
      select l.id, pg_try_advisory_xact_lock(${LANE_LOCK_CLASS}::int, hashtext(l.lane)) as ok
      from (select id, lane from jobs where id = any(array(select jsonb_array_elements_text(${ids}::jsonb)))
        for update skip locked) l`)) as unknown as Array<{ id: string; ok: boolean }>;
    const locked = locks.filter((l) => l.ok);
    if (locked.length === 0) return new Map();
    const owners = JSON.stringify(locked.map((l) => ({ id: l.id, owner: newOwner() })));
    const rows = (await tx.execute(sql`
      update jobs set status = 'running', locked_until = ${lease}, owner = t.owner, updated_at = ${now},
        attempts = attempts + (case when status = 'running' then 1 else 0 end),
        last_error = case when status = 'running' then 'lease expired' else last_error end
      from jsonb_to_recordset(${owners}::jsonb) as t(id text, owner text)
      where jobs.id = t.id
        and ((status = 'pending' and run_at <= ${now}) or (status = 'running' and locked_until < ${now}))
        -- Two lookups, not one with an OR: with the OR, PostgreSQL scanned every unfinished job
        -- older than this one (jobs_lane without its lane), 1 ms a take with 6,000 pending.
        and not exists (select 1 from jobs e where e.lane = jobs.lane and e.status in ('pending', 'running')
          and e.id < jobs.id)
        and not exists (select 1 from jobs e where e.lane = jobs.lane and e.status = 'running'
          and e.locked_until >= ${now} and e.id <> jobs.id)
      returning jobs.*`)) as unknown as JobRow[];
    return new Map(rows.map((r) => [r.id, r]));
  }

  /**
   * The orgs with pending jobs, for the claim to rank: a loose index scan (one seek an org, about
   * 8 ms for 1,000 orgs over 1M jobs on a loaded machine, more than the rest of a claim), so
   * read again only every ORGS_TTL_MS while LISTEN is in place, and on every claim until it is.
   * Between reads the NOTIFY of every enqueue and retry, from any instance, names its orgs, and
   * they are added as it arrives, before the runners it wakes claim: a claim misses an org with
   * new jobs only while that NOTIFY is on its way, as if it had started a moment earlier. The
   * orgs this instance enqueues for are added at once, those with running jobs by every claim; a
   * NOTIFY that names none (another version, too many orgs) or LISTEN coming back after a lost
   * connection (NOTIFYs may have been missed) makes the next claim read them again, and
   * ORGS_TTL_MS bounds anything else missed. An org whose jobs are gone costs a lookup that finds
   * nothing until the next read.
   */
  private async knownOrgs(): Promise<Set<string>> {
    const t = performance.now();
    if (this.listened && !this.orgsStale && t - this.orgsReadAt < ORGS_TTL_MS) return this.orgs;
    this.orgsStale = false;
    // Orgs noted while the read runs (after its snapshot, maybe) are kept with what it finds.
    const noted = new Set<string>();
    this.reads.add(noted);
    try {
      const rows = await this.database.sql<{ org: string }[]>`
        with recursive o(org) as (
          select (select min(org_id) from jobs where status = 'pending')
          union all
          select (select min(org_id) from jobs where status = 'pending' and org_id > o.org) from o where o.org is not null)
        select org from o where org is not null`;
      const orgs = new Set(rows.map((r) => r.org));
      for (const org of noted) orgs.add(org);
      // Reads overlapping: the one started last saw the most.
      if (t >= this.orgsReadAt) {
        this.orgs = orgs;
        this.orgsReadAt = t;
      }
      return orgs;
    } catch (err) {
      this.orgsStale = true;
      throw err;
    } finally {
      this.reads.delete(noted);
    }
  }

  private noteOrgs(orgs: readonly string[]): void {
    for (const org of orgs) {
      this.orgs.add(org);
      for (const read of this.reads) read.add(org);
    }
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
   * Ends a run: the head's new state, its followers', and the run's audit rows. Nothing is written
   * unless the run still owns the head: returns false then. Runs ending in the same turn share one
   * transaction (and one fsync): see settleBatch.
   */
  async settle(s: Settle, now: number): Promise<boolean> {
    const settled = await this.settleGrouped({ s, now });
    if (settled && (s.outcome.status === 'pending' || (s.followers?.length ?? 0) > 0)) this.emit();
    return settled;
  }

  private readonly settleGrouped = groupCommit((batch: Array<{ s: Settle; now: number }>) =>
    retried(() => this.database.db.transaction((tx) => this.settleBatch(tx, batch))),
  );

  /**
   * All the runs' heads in one update (each row names its owner, so a batch written again after a
   * deadlock changes nothing twice), then the followers of the heads still owned in another, the
   * audit rows of those runs in one append, and one NOTIFY for the orgs whose lanes have work
   * again: four statements for a batch, where a run each took two.
   */
  private async settleBatch(tx: PgTx, batch: ReadonlyArray<{ s: Settle; now: number }>): Promise<boolean[]> {
    // Rows in id order (a lease extension skips rows a settle holds, so it never waits on these).
    const heads = batch
      .map(({ s, now }) => {
        const o = s.outcome;
        return {
          id: s.job.id,
          owner: s.job.owner,
          status: o.status,
          run_at: o.status === 'pending' ? o.runAt : null,
          // It may quote what Genesys or an event said (a NUL would fail the batch).
          error: o.status === 'succeeded' ? null : storableText(o.error),
          counted: o.status === 'succeeded' || o.countAttempt ? 1 : 0,
          now,
        };
      })
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const changed = (await tx.execute(sql`
      update jobs j set status = t.status, locked_until = null, owner = null, updated_at = t.now,
        run_at = coalesce(t.run_at, j.run_at), last_error = t.error, attempts = j.attempts + t.counted
      from jsonb_to_recordset(${JSON.stringify(heads)}::jsonb)
        as t(id text, owner text, status text, run_at bigint, error text, counted int, now bigint)
      where j.id = t.id and j.owner = t.owner and j.status = 'running'
      returning j.id, t.owner`)) as unknown as Array<{ id: string; owner: string }>;
    // By run, not by job: a stale run and the run that took its job over may settle together.
    const run = (id: string, owner: string) => `${id}\n${owner}`;
    const owned = new Set(changed.map((r) => run(r.id, r.owner)));
    const mine = batch.filter(({ s }) => owned.has(run(s.job.id, s.job.owner)));
    // Folded jobs go with their head: done with its attempts, or back to pending untouched.
    const followers = mine.flatMap(({ s, now }) =>
      (s.followers ?? []).map((f) => ({
        id: f.id,
        owner: s.job.owner,
        done: s.outcome.status === 'succeeded',
        attempts: s.job.attempts + 1,
        now,
      })),
    );
    if (followers.length > 0)
      await tx.execute(sql`
        update jobs j set status = case when t.done then 'succeeded' else 'pending' end,
          locked_until = null, owner = null, updated_at = t.now,
          last_error = case when t.done then null else j.last_error end,
          attempts = case when t.done then t.attempts else j.attempts end
        from jsonb_to_recordset(${JSON.stringify(followers)}::jsonb)
          as t(id text, owner text, done boolean, attempts int, now bigint)
        where j.id = t.id and j.owner = t.owner and j.status = 'running'`);
    const wake = new Set(
      mine
        .filter(({ s }) => s.outcome.status === 'pending' || (s.followers?.length ?? 0) > 0)
        .map(({ s }) => s.job.orgId),
    );
    if (wake.size > 0) await tx.execute(sql`select pg_notify(${JOBS_CHANNEL}, ${notifyPayload([...wake])})`);
    // Last: the audit chain locks hold up other batches of the same orgs until this commits.
    await appendAuditManyPg(
      tx,
      mine.flatMap(({ s }) => s.audit ?? []),
    );
    return batch.map(({ s }) => owned.has(run(s.job.id, s.job.owner)));
  }

  /** Keeps the leases of live runs (their owners: heads and followers) from running out. */
  async extend(owners: readonly string[], now: number, leaseMs: number): Promise<void> {
    if (owners.length === 0) return;
    // A row another transaction holds is skipped, not waited for: only a settle ending its run
    // (or one retrying after a deadlock) holds these, and a row it leaves running is extended at
    // the next heartbeat, well within the lease. Waiting deadlocked now and then against a settle
    // batch, whose join locks its rows in whatever order the plan reads them.
    const mine = this.database.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(inArray(jobs.owner, [...owners]), eq(jobs.status, 'running')))
      .orderBy(jobs.id)
      .for('update', { skipLocked: true });
    await this.database.db
      .update(jobs)
      .set({ lockedUntil: now + leaseMs, updatedAt: now })
      .where(inArray(jobs.id, mine));
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
    // As on SQLite: unfinished jobs from their indexes, finished ones from the triggers' counts.
    const rows = await this.database.sql<{ status: string; n: number }[]>`
      select 'pending' as status, count(*)::int as n from jobs where status = 'pending'
      union all select 'running', count(*)::int from jobs where status = 'running'
      union all select status, sum(n)::float8 from finished_job_counts group by status`;
    const [oldest] = await this.database.db
      .select({ at: min(jobs.createdAt) })
      .from(jobs)
      .where(inArray(jobs.status, ['pending', 'running']));
    return {
      byStatus: presentStatuses(rows),
      oldestCreatedAt: oldest?.at == null ? null : Number(oldest.at),
    };
  }

  /**
   * Called when work may be ready: after this instance's enqueue and retry, and on a NOTIFY from
   * any instance (LISTEN starts with the first listener; the runner's poll covers a lost one).
   */
  onWork(listener: () => void): () => void {
    this.listeners.add(listener);
    this.listen();
    return () => this.listeners.delete(listener);
  }

  /**
   * LISTEN, from the first onWork or claim on: a NOTIFY adds the orgs it names (see knownOrgs),
   * then wakes the runners. postgres.js listens again after a lost connection and calls the
   * second callback each time LISTEN is in place.
   */
  private listen(): void {
    if (this.closed) return;
    this.listening ??= this.database.sql
      .listen(
        JOBS_CHANNEL,
        (payload) => {
          this.noted(payload);
          this.emit();
        },
        () => {
          if (this.closed) return;
          this.listened = true;
          this.orgsStale = true;
        },
      )
      .catch(() => undefined);
  }

  private noted(payload: string): void {
    let orgs: unknown;
    try {
      orgs = payload === '' ? undefined : JSON.parse(payload);
    } catch {
      orgs = undefined;
    }
    if (Array.isArray(orgs) && orgs.every((o) => typeof o === 'string')) this.noteOrgs(orgs);
    else this.orgsStale = true;
  }

  /** Resolves once LISTEN is in place (tests wait for it before another instance notifies). */
  async ready(): Promise<void> {
    await this.listening;
  }

  /** Stops listening; the database handle itself belongs to the caller. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listened = false;
    const l = await this.listening;
    await l?.unlisten().catch(() => {});
  }

  private emit(): void {
    if (this.closed) return;
    for (const l of this.listeners) l();
  }
}
