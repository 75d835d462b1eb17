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
   * Takes the next claimable job and leases it to a new owner until `now + leaseMs`, with the
   * jobs queued behind it in its lane that `fold(head)` allows (0: none). `served` ranks orgs by
   * when this worker last served them: among equally busy orgs, the one served longest ago first.
   */
  claim(
    now: number,
    leaseMs: number,
    pausedOrgs?: readonly string[],
    served?: Readonly<Record<string, number>>,
    fold?: (head: Job) => number,
  ): Promise<Claimed | undefined>;
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
