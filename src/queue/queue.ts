import { randomBytes } from 'node:crypto';
import type { AuditEntry } from '../audit/types.js';

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
  /**
   * Runs that ended in an answer: done, a retry or failed, the last one included (so a job done
   * at once has 1). A wait (429, no budget yet) is not one; a run cut off by a crash or an
   * expired lease is. A folded job ends with its head's count: it went out with the head's runs.
   */
  attempts: number;
  maxAttempts: number;
  runAt: number;
  createdAt: number;
  lastError: string | null;
  /** The allocation holding the job while it runs: every state change must name it. */
  owner: string;
}

/**
 * A claimed head with the jobs queued behind it in its lane that it folds (oldest first), all
 * leased to the same owner: the runner settles them together.
 */
export type Claimed = Job & { followers: readonly Job[] };

/** Where a run leaves its job. */
export type Settlement =
  /** The run that succeeded counts as an attempt, as graphile-worker counts every run. */
  | { status: 'succeeded' }
  /** Back to its lane until `runAt`; `countAttempt: false` for waits that are not failures (429, budget). */
  | { status: 'pending'; runAt: number; error: string; countAttempt: boolean }
  | { status: 'failed'; error: string; countAttempt: boolean };

export interface Settle {
  /** The head the run claimed (its `owner` is checked). */
  job: Job;
  outcome: Settlement;
  /**
   * Jobs folded into the run: done with it (and its attempts) when it succeeded, otherwise back to
   * pending untouched.
   */
  followers?: readonly Job[];
  /** Audit rows of the run: written in the same transaction, and only while the run still owns its jobs. */
  audit?: readonly AuditEntry[];
}

export const DEFAULT_MAX_ATTEMPTS = 10;

/**
 * The durable job queue (graphile-worker's semantics): one lane runs one job at a time, oldest
 * first; a claim is a lease with an owner, and every state change names that owner. Each backend
 * implements it (SQLite: sqlite-store.ts); enqueueing happens inside the transaction of the change
 * that causes the jobs, so it belongs to the stores that make those changes.
 */
export interface JobQueue {
  /**
   * Takes up to `max` claimable jobs, each leased to a new owner until `now + leaseMs` with the
   * jobs queued behind it in its lane that `fold(head)` allows (0: none), each claim made after the
   * ones before it (their orgs count as running and just served): one transaction where the
   * backend can. `served` ranks orgs by when this worker last served them: among equally busy
   * orgs, the one served longest ago first, a round robin however long one org's backlog is.
   */
  claimSome(
    now: number,
    leaseMs: number,
    max: number,
    pausedOrgs?: readonly string[],
    served?: Readonly<Record<string, number>>,
    fold?: (head: Job) => number,
  ): Promise<Claimed[]>;
  /** Ends a run in one transaction; false (nothing written) when the run no longer owns the head. */
  settle(s: Settle, now: number): Promise<boolean>;
  /** Keeps the leases of live runs (their owners) from running out. */
  extend(owners: readonly string[], now: number, leaseMs: number): Promise<void>;
  /** At start, on a backend one process owns: jobs left running go back to pending. */
  recoverAbandoned(now: number): Promise<number>;
  /** Unfinished jobs of an org, and when the oldest of them was enqueued. */
  backlog(orgId: string): Promise<{ pending: number; oldestCreatedAt: number | null }>;
  /** Jobs by status, and when the oldest unfinished one was enqueued (all orgs): for /metrics. */
  depth(): Promise<{ byStatus: Record<string, number>; oldestCreatedAt: number | null }>;
  /** Called when work may be ready (enqueue, retry): a runner waiting for work wakes up. */
  onWork(listener: () => void): () => void;
}

/** `depth().byStatus` from count rows: the statuses that have jobs. */
export function presentStatuses(rows: ReadonlyArray<{ status: string; n: number }>): Record<string, number> {
  return Object.fromEntries(rows.filter((r) => r.n > 0).map((r) => [r.status, r.n]));
}

/** A `jobs` row as either backend returns it (PostgreSQL hands bigint times back as text). */
export interface JobRow {
  id: string;
  kind: string;
  org_id: string;
  lane: string;
  payload: string;
  attempts: number;
  max_attempts: number;
  run_at: string | number;
  created_at: string | number;
  last_error: string | null;
  owner: string;
}

export const toJob = (r: JobRow): Job => ({
  id: r.id,
  kind: r.kind,
  orgId: r.org_id,
  lane: r.lane,
  payload: JSON.parse(r.payload),
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  runAt: Number(r.run_at),
  createdAt: Number(r.created_at),
  lastError: r.last_error,
  owner: r.owner,
});

/** One allocation id per claim: 96 random bits, like liteque's `allocationId`. */
export const newOwner = (): string => randomBytes(12).toString('base64url');

/** An org with claimable work as a claim ranks it: its live running jobs, and when it was served. */
export interface RankedOrg {
  org: string;
  running: number;
  served: number;
}

/**
 * The claim's fairness order, shared by both backends: orgs with fewer jobs running on live leases
 * first, then the one `served` longest ago (never: 0); paused orgs are left out. Within one rank
 * the oldest lane head (run_at, id) goes first, which only the database knows, so the orgs come in
 * batches of whole ranks (at least `first` orgs, then eight times as many each time): every org
 * after a batch ranks strictly after all of it, so the best head within the first batch that has
 * any is the best of all, and a claim looks at a handful of orgs however many have work.
 */
export function orgBatches(
  orgs: ReadonlyMap<string, number>,
  pausedOrgs: readonly string[],
  served: Readonly<Record<string, number>>,
  first = 8,
): RankedOrg[][] {
  const paused = new Set(pausedOrgs);
  const ranked: RankedOrg[] = [];
  for (const [org, running] of orgs) {
    if (!paused.has(org)) ranked.push({ org, running, served: served[org] ?? 0 });
  }
  ranked.sort((a, b) => a.running - b.running || a.served - b.served);
  const batches: RankedOrg[][] = [];
  let size = first;
  for (let start = 0; start < ranked.length; size *= 8) {
    let end = Math.min(ranked.length, start + size);
    while (end < ranked.length && sameRank(ranked[end - 1]!, ranked[end]!)) end++;
    // A rank bigger than a batch (all the orgs not served yet) is a batch of its own.
    const own = rankEnd(ranked, start);
    if (own - start > size) end = own;
    else if (end - start > size) end = rankStart(ranked, end - 1);
    batches.push(ranked.slice(start, end));
    start = end;
  }
  return batches;
}

/** Where the rank of `ranked[i]` ends (exclusive) and starts. */
function rankEnd(ranked: readonly RankedOrg[], i: number): number {
  let end = i + 1;
  while (end < ranked.length && sameRank(ranked[i]!, ranked[end]!)) end++;
  return end;
}
function rankStart(ranked: readonly RankedOrg[], i: number): number {
  let start = i;
  while (start > 0 && sameRank(ranked[i]!, ranked[start - 1]!)) start--;
  return start;
}

const sameRank = (a: RankedOrg, b: RankedOrg) => a.running === b.running && a.served === b.served;

/** Orders one batch's lane heads: rank of their org, then oldest first (run_at, then id). */
export function byRank<T extends { org_id: string; run_at: string | number; id: string }>(
  batch: readonly RankedOrg[],
  heads: readonly T[],
): T[] {
  // Orgs of one rank share its number.
  const group = new Map<string, number>();
  batch.forEach((o, i) => {
    const prev = batch[i - 1];
    group.set(o.org, prev && sameRank(prev, o) ? group.get(prev.org)! : i);
  });
  const groupOf = (h: T) => group.get(h.org_id) ?? batch.length;
  return heads
    .map((h) => ({ h, g: groupOf(h), at: Number(h.run_at) }))
    .sort((a, b) => a.g - b.g || a.at - b.at || (a.h.id < b.h.id ? -1 : a.h.id > b.h.id ? 1 : 0))
    .map((x) => x.h);
}

/**
 * Orgs in one batch above which a claim first looks for the batch's best head among the oldest
 * ready jobs of all orgs (OLDEST_SCAN of them) instead of org by org: a rank that big is the orgs
 * no one served yet (a worker's first claims), whose oldest heads are usually among the oldest
 * jobs. Exact either way: a head found there is the oldest of the rank; none, and it goes org by org.
 */
export const WIDE_RANK = 32;
/** How long a queue trusts the orgs with pending jobs it read (enqueues through it add theirs at once). */
export const ORGS_TTL_MS = 250;
export const OLDEST_SCAN = 1_000;

/** Whether a batch (sorted by rank) is all one rank, and wide: see WIDE_RANK. */
export const wideRank = (batch: readonly RankedOrg[]): boolean =>
  batch.length > WIDE_RANK && sameRank(batch[0]!, batch[batch.length - 1]!);
