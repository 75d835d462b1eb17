import type { AuditEntry } from '../audit/types.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { Claimed, Job, JobQueue, Settlement } from './queue.js';

/** What a handler says happened to its job. */
export type JobResult = (
  | { kind: 'done' }
  /** A failure worth another attempt at `runAt` (counts against `maxAttempts`). */
  | { kind: 'retry'; runAt: number; error: string }
  /** Not a failure: try again at `runAt` without using an attempt (429, no budget yet). */
  | { kind: 'wait'; runAt: number; reason: string }
  /** Final: no more attempts. */
  | { kind: 'failed'; error: string }
) & {
  /** Audit rows committed with the job's new state, and only if the run still owns it. */
  audit?: readonly AuditEntry[];
  /** Runs once the new state is committed (metrics, log lines); not when the lease was lost. */
  afterSettle?: () => void;
};

interface Run {
  done: Promise<void>;
  abort: AbortController;
  /** The claim's lease owner, which the heartbeat extends. */
  owner: string;
}

/** `job.followers`: the jobs claimed with it to be folded into the same piece of work. */
export type Handler = (job: Claimed, signal: AbortSignal) => Promise<JobResult>;

export interface RunnerOptions {
  queue: JobQueue;
  handlers: Readonly<Record<string, Handler>>;
  clock: Clock;
  logger: Logger;
  /** Jobs running at once. */
  concurrency?: number;
  /** How long a claimed job is leased; past it, another worker may take it. */
  leaseMs?: number;
  /** Fallback poll for jobs whose `run_at` comes due (enqueues wake the runner at once). */
  pollMs?: number;
  /** Orgs whose jobs must not be claimed now (no budget, rate limited). */
  pausedOrgs?: () => readonly string[];
  /** Delay before the next attempt when a handler throws. */
  retryDelayMs?: (attempts: number) => number;
  /** Per job kind, how many ready jobs queued behind a head in its lane are claimed with it. */
  fold?: Readonly<Record<string, number>>;
  /** Jobs allowed at once right now, at most `concurrency` (delivery/ingest-first.ts lowers it). */
  limit?: () => number;
}

/**
 * Claims and runs jobs with bounded concurrency. It sleeps when there is nothing to claim and is
 * woken by enqueues and retries (and a slow poll for retries coming due). `stop()` stops
 * claiming and waits for the jobs in flight.
 */
export class Runner {
  /**
   * The runs in flight, each its own entry: a job that waits until now is claimed again by the
   * settle's wake-up before its first run has left this set, so the job's id cannot be the key.
   */
  private readonly inFlight = new Set<Run>();
  private running = false;
  /** When each org was last served (a counter): fairness across orgs. */
  private readonly served: Record<string, number> = {};
  private tick = 0;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  /** Runs ended so far (runUntilEmpty: did any end during a fill?). */
  private finished = 0;
  private readonly o: Required<Omit<RunnerOptions, 'pausedOrgs' | 'fold' | 'limit'>> &
    Pick<RunnerOptions, 'pausedOrgs' | 'fold' | 'limit'>;

  constructor(options: RunnerOptions) {
    this.o = {
      concurrency: 8,
      // What a crashed instance's lanes wait before another instance takes them over; live runs
      // keep theirs with a heartbeat every third of it, so it bounds nothing else.
      leaseMs: 20_000,
      pollMs: 500,
      retryDelayMs: (attempts) => Math.min(3_600_000, 1000 * 2 ** attempts),
      ...options,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.o.queue.onWork(() => this.pump());
    // A live run keeps its lease: only a stopped or stalled process loses jobs to lease expiry.
    this.heartbeat = setInterval(() => this.extendLeases(), Math.max(1_000, this.o.leaseMs / 3));
    this.heartbeat.unref();
    this.pump();
  }

  private extendLeases(): void {
    const owners = [...this.inFlight].map((f) => f.owner);
    this.o.queue
      .extend(owners, this.o.clock.now(), this.o.leaseMs)
      .catch((err: unknown) => this.o.logger.warn('could not extend job leases', { err }));
  }

  /** Stops claiming and resolves once every job in flight has finished. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    // A claim under way may still start a job: wait for it, then for every job in flight. Their
    // leases are kept meanwhile: a run waiting on Genesys can outlast one, and another instance
    // would then run its job (and its lane) a second time.
    await this.pumping;
    await Promise.all([...this.inFlight].map((f) => f.done));
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  /** For tests: runs every job claimable now (and those they make ready now), then resolves. */
  async runUntilEmpty(): Promise<void> {
    for (;;) {
      const finished = this.finished;
      await this.fill(() => true);
      if (this.inFlight.size === 0) {
        // A claim that found nothing may have looked while runs it waited on were settling (an
        // async backend's claim sees them still running): fill again if any ended meanwhile.
        if (this.finished !== finished) continue;
        return;
      }
      await Promise.race([...this.inFlight].map((f) => f.done));
    }
  }

  /** One fill at a time (claims are async): a wake-up during one makes it go round again. */
  private pump(): void {
    if (!this.running) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.fill(() => this.running)
      .catch((err: unknown) => this.o.logger.error('claiming jobs failed', { err }))
      .finally(() => {
        this.pumping = undefined;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.pump();
        } else if (this.running) {
          if (this.timer) clearTimeout(this.timer);
          this.timer = setTimeout(() => this.pump(), this.o.pollMs);
          this.timer.unref();
        }
      });
  }

  /** Claims until every slot is busy or nothing is claimable. */
  private async fill(go: () => boolean): Promise<void> {
    while (go() && this.inFlight.size < this.slots() && (await this.claimAndRun())) {
      // fill every free slot
    }
  }

  /** Claims jobs for the free slots (one claim of several) and starts them; false when no more are claimable. */
  private async claimAndRun(): Promise<boolean> {
    const now = this.o.clock.now();
    const fold = (head: Job) => this.o.fold?.[head.kind] ?? 0;
    const free = this.slots() - this.inFlight.size;
    const jobs = await this.o.queue.claimSome(
      now,
      this.o.leaseMs,
      free,
      this.o.pausedOrgs?.() ?? [],
      this.served,
      fold,
    );
    for (const job of jobs) this.begin(job);
    // Fewer than asked for: nothing else was claimable.
    return jobs.length === free;
  }

  private slots(): number {
    return this.o.limit ? Math.min(this.o.concurrency, this.o.limit()) : this.o.concurrency;
  }

  private begin(job: Claimed): void {
    this.served[job.orgId] = ++this.tick;
    const abort = new AbortController();
    const run: Run = { abort, owner: job.owner, done: Promise.resolve() };
    run.done = this.execute(job, abort.signal)
      // The outcome could not be written (the database is unreachable): the job stays leased to
      // this run, and runs again once the lease runs out. Nothing else awaits `done` while running.
      .catch((err: unknown) =>
        this.o.logger.error('could not record a job’s outcome; it runs again after its lease', {
          jobId: job.id,
          kind: job.kind,
          err,
        }),
      )
      .finally(() => {
        this.finished++;
        this.inFlight.delete(run);
        if (this.running) setImmediate(() => this.pump());
      });
    this.inFlight.add(run);
  }

  private async execute(job: Claimed, signal: AbortSignal): Promise<void> {
    const { clock, logger } = this.o;
    if (job.attempts >= job.maxAttempts) {
      await this.settle(job, {
        status: 'failed',
        error: job.lastError ?? 'attempts exhausted',
        countAttempt: false,
      });
      return;
    }
    const handler = this.o.handlers[job.kind];
    let result: JobResult;
    if (!handler) {
      result = { kind: 'failed', error: `no handler for job kind ${job.kind}` };
    } else {
      try {
        result = await handler(job, signal);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        logger.error('job handler threw', { jobId: job.id, kind: job.kind, err });
        result = { kind: 'retry', runAt: clock.now() + this.o.retryDelayMs(job.attempts + 1), error };
      }
    }
    await this.settle(job, settlementOf(job, result), result);
  }

  private async settle(job: Claimed, outcome: Settlement, result?: JobResult): Promise<void> {
    const settled = await this.o.queue.settle(
      { job, outcome, followers: job.followers, ...(result?.audit ? { audit: result.audit } : {}) },
      this.o.clock.now(),
    );
    // Its lease ran out and another run took the job: that run owns the outcome now.
    if (!settled) {
      this.o.logger.warn('job lease lost before it finished', { jobId: job.id, kind: job.kind });
      return;
    }
    try {
      result?.afterSettle?.();
    } catch (err) {
      // The outcome is committed: only its metrics or log line are missing.
      this.o.logger.error('a job’s outcome was recorded, but what follows it failed', {
        jobId: job.id,
        kind: job.kind,
        err,
      });
    }
  }
}

function settlementOf(job: Job, result: JobResult): Settlement {
  switch (result.kind) {
    case 'done':
      return { status: 'succeeded' };
    case 'wait':
      return { status: 'pending', runAt: result.runAt, error: result.reason, countAttempt: false };
    case 'retry':
      return job.attempts + 1 >= job.maxAttempts
        ? { status: 'failed', error: result.error, countAttempt: true }
        : { status: 'pending', runAt: result.runAt, error: result.error, countAttempt: true };
    case 'failed':
      return { status: 'failed', error: result.error, countAttempt: true };
  }
}
