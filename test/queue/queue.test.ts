import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type RelayDatabase } from '../../src/db/client.js';
import { createLogger, type Logger } from '../../src/lib/logger.js';
import type { Job, NewJob } from '../../src/queue/queue.js';
import { type Handler, type JobResult, Runner } from '../../src/queue/runner.js';
import { SqliteJobQueue } from '../../src/queue/sqlite-store.js';
import { settled } from '../helpers/audit-staged.js';
import { claimNext } from '../helpers/claim.js';
import { ManualClock } from '../helpers/clock.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/until.js';

let dir: ReturnType<typeof tempDir>;
let database: RelayDatabase;
let queue: SqliteJobQueue;
let clock: ManualClock;
const runners: Runner[] = [];

beforeEach(() => {
  dir = tempDir('queue');
  database = openDatabase(`${dir.path}/q.sqlite`);
  database.migrate();
  queue = new SqliteJobQueue(database.sqlite);
  clock = new ManualClock();
});
afterEach(async () => {
  for (const r of runners.splice(0)) await r.stop();
  database.close();
  dir.cleanup();
});

function runner(handler: Handler, opts: Partial<ConstructorParameters<typeof Runner>[0]> = {}) {
  const r = new Runner({
    queue,
    handlers: { work: handler },
    clock,
    logger: createLogger('silent'),
    ...opts,
  });
  runners.push(r);
  return r;
}

const job = (lane: string, payload: unknown = {}, extra: Partial<NewJob> = {}): NewJob => ({
  kind: 'work',
  orgId: 'org-a',
  lane,
  payload,
  ...extra,
});

const row = (id: string) =>
  database.sqlite.prepare('select status, attempts, last_error, run_at from jobs where id = ?').get(id) as {
    status: string;
    attempts: number;
    last_error: string | null;
    run_at: number;
  };

/** A promise and its resolver: a barrier for concurrency tests. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

/** Stops `r` while its run waits at `release`: stop() resolves only once that run is let go. */
async function stopWhileHeld(r: Runner, release: ReturnType<typeof gate>): Promise<void> {
  let stopped = false;
  const stopping = r.stop().then(() => {
    stopped = true;
  });
  await new Promise((res) => setImmediate(res));
  expect(stopped).toBe(false);
  release.open();
  await stopping;
}

/** A logger that keeps the messages of its error lines. */
function errorLines(): { logs: string[]; logger: Logger } {
  const logs: string[] = [];
  return { logs, logger: { ...createLogger('silent'), error: (msg: string) => void logs.push(msg) } };
}

describe('JobQueue and Runner', () => {
  it('runs every job once; a repeated idempotency key is the same job', async () => {
    const ids = queue.enqueue(
      [job('l1', { n: 1 }, { idempotencyKey: 'k' }), job('l2', { n: 2 })],
      clock.now(),
    );
    const again = queue.enqueue([job('l1', { n: 99 }, { idempotencyKey: 'k' })], clock.now());
    expect(again).toEqual([ids[0]]);
    const seen: unknown[] = [];
    await runner(async (j) => {
      seen.push(j.payload);
      return { kind: 'done' };
    }).runUntilEmpty();
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
    expect(ids.map((id) => row(id).status)).toEqual(['succeeded', 'succeeded']);
  });

  it('runs one job per lane at a time, oldest first, while lanes run in parallel', async () => {
    for (let i = 0; i < 5; i++) queue.enqueue([job('lane-a', { i }), job('lane-b', { i })], clock.now());
    const active = new Set<string>();
    let parallel = 0;
    const order: Record<string, number[]> = { 'lane-a': [], 'lane-b': [] };
    await runner(
      async (j) => {
        expect(active.has(j.lane)).toBe(false);
        active.add(j.lane);
        parallel = Math.max(parallel, active.size);
        await new Promise((r) => setImmediate(r));
        order[j.lane]!.push((j.payload as { i: number }).i);
        active.delete(j.lane);
        return { kind: 'done' };
      },
      { concurrency: 8 },
    ).runUntilEmpty();
    expect(order).toEqual({ 'lane-a': [0, 1, 2, 3, 4], 'lane-b': [0, 1, 2, 3, 4] });
    expect(parallel).toBe(2);
  });

  it('a head job waiting for its retry holds its lane: later jobs never overtake it', async () => {
    const [first, second] = queue.enqueue([job('lane', { n: 1 }), job('lane', { n: 2 })], clock.now());
    const [other] = queue.enqueue([job('elsewhere', { n: 3 })], clock.now());
    const ran: number[] = [];
    let failOnce = true;
    const r = runner(async (j) => {
      const n = (j.payload as { n: number }).n;
      if (n === 1 && failOnce) {
        failOnce = false;
        return { kind: 'retry', runAt: clock.now() + 10_000, error: 'HTTP 503' };
      }
      ran.push(n);
      return { kind: 'done' };
    });
    await r.runUntilEmpty();
    expect(ran).toEqual([3]);
    expect(row(first!)).toMatchObject({ status: 'pending', attempts: 1, last_error: 'HTTP 503' });
    expect(row(second!).status).toBe('pending');
    expect(row(other!).status).toBe('succeeded');
    clock.advance(10_000);
    await r.runUntilEmpty();
    expect(ran).toEqual([3, 1, 2]);
  });

  it('a wait (429, no budget) does not use an attempt; failures do, until maxAttempts', async () => {
    const [waiting] = queue.enqueue([job('w')], clock.now());
    const [failing] = queue.enqueue([job('f', { fail: true }, { maxAttempts: 3 })], clock.now());
    let waits = 0;
    const r = runner(async (j): Promise<JobResult> => {
      if ((j.payload as { fail?: boolean }).fail)
        return { kind: 'retry', runAt: clock.now() + 1000, error: `boom ${j.attempts}` };
      if (waits++ < 3) return { kind: 'wait', runAt: clock.now() + 1000, reason: 'rate limited' };
      return { kind: 'done' };
    });
    for (let i = 0; i < 5; i++) {
      await r.runUntilEmpty();
      clock.advance(1000);
    }
    // Three waits and the run that succeeded: one attempt.
    expect(row(waiting!)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(row(failing!)).toMatchObject({ status: 'failed', attempts: 3, last_error: 'boom 2' });
  });

  it('a thrown handler error is a failed attempt, retried later', async () => {
    const [id] = queue.enqueue([job('t')], clock.now());
    let calls = 0;
    const r = runner(async () => {
      if (calls++ === 0) throw new Error('socket hang up');
      return { kind: 'done' };
    });
    await r.runUntilEmpty();
    expect(row(id!)).toMatchObject({ status: 'pending', attempts: 1, last_error: 'socket hang up' });
    clock.advance(2_000);
    await r.runUntilEmpty();
    expect(row(id!).status).toBe('succeeded');
  });

  it('picks up a crashed worker’s job once its lease runs out, counting the lost attempt', async () => {
    const [id] = queue.enqueue([job('crash')], clock.now());
    const taken = await claimNext(queue, clock.now(), 30_000); // a worker that then dies
    expect(taken?.id).toBe(id);
    const seen: Job[] = [];
    const r = runner(async (j) => {
      seen.push(j);
      return { kind: 'done' };
    });
    await r.runUntilEmpty();
    expect(seen).toHaveLength(0);
    clock.advance(30_001);
    await r.runUntilEmpty();
    expect(seen.map((j) => [j.id, j.attempts, j.lastError])).toEqual([[id, 1, 'lease expired']]);
    expect(row(id!).status).toBe('succeeded');
  });

  it('never runs more than `concurrency` jobs at once', async () => {
    queue.enqueue(
      Array.from({ length: 20 }, (_, i) => job(`lane-${i}`)),
      clock.now(),
    );
    const release = gate();
    let active = 0;
    let peak = 0;
    const r = runner(
      async () => {
        peak = Math.max(peak, ++active);
        await release.opened;
        active--;
        return { kind: 'done' };
      },
      { concurrency: 4 },
    );
    const done = r.runUntilEmpty();
    await new Promise((res) => setImmediate(res));
    expect(active).toBe(4);
    release.open();
    await done;
    expect(peak).toBe(4);
  });

  it('runs no more than its limit while it is lowered, and fills the slots again when it rises', async () => {
    queue.enqueue(
      Array.from({ length: 20 }, (_, i) => job(`lane-${i}`)),
      clock.now(),
    );
    const releases: Array<() => void> = [];
    let active = 0;
    let limit = 2;
    let open = false;
    const r = runner(
      async () => {
        active++;
        if (!open) await new Promise<void>((res) => releases.push(res));
        active--;
        return { kind: 'done' };
      },
      { concurrency: 8, limit: () => limit },
    );
    r.start();
    await until(() => active === 2, 'two jobs running');
    limit = 4;
    // The next job to end makes room for three: the slots the higher limit gave, and its own.
    releases.shift()!();
    await until(() => active === 4, 'four jobs running');
    expect(releases).toHaveLength(4);
    open = true;
    for (const release of releases.splice(0)) release();
    await r.runUntilEmpty();
    expect(active).toBe(0);
  });

  it('serves orgs round robin: one org’s backlog does not hold another’s job back', async () => {
    queue.enqueue(
      Array.from({ length: 50 }, (_, i) => job(`a-${i}`, { org: 'a' })),
      clock.now(),
    );
    clock.advance(1);
    queue.enqueue([job('b-0', { org: 'b' }, { orgId: 'org-b' })], clock.now());
    const order: string[] = [];
    await runner(
      async (j) => {
        order.push((j.payload as { org: string }).org);
        return { kind: 'done' };
      },
      { concurrency: 1 },
    ).runUntilEmpty();
    expect(order.indexOf('b')).toBeLessThanOrEqual(1);
  });

  it('skips paused orgs without blocking others', async () => {
    queue.enqueue([job('x', { org: 'a' })], clock.now());
    queue.enqueue([job('y', { org: 'b' }, { orgId: 'org-b' })], clock.now());
    const ran: string[] = [];
    const paused = new Set(['org-a']);
    const r = runner(
      async (j) => {
        ran.push((j.payload as { org: string }).org);
        return { kind: 'done' };
      },
      { pausedOrgs: () => [...paused] },
    );
    await r.runUntilEmpty();
    expect(ran).toEqual(['b']);
    paused.clear();
    await r.runUntilEmpty();
    expect(ran).toEqual(['b', 'a']);
  });

  it('wakes on enqueue without waiting for a poll, and stop() drains the job in flight', async () => {
    const started = gate();
    const release = gate();
    const finished: string[] = [];
    const r = runner(
      async (j) => {
        started.open();
        await release.opened;
        finished.push(j.id);
        return { kind: 'done' };
      },
      { pollMs: 3_600_000 },
    );
    r.start();
    const [id] = queue.enqueue([job('wake')], clock.now());
    await started.opened;
    await stopWhileHeld(r, release);
    expect(finished).toEqual([id]);
    expect(row(id!).status).toBe('succeeded');
    // Stopped: new work is not claimed.
    const [later] = queue.enqueue([job('after-stop')], clock.now());
    await new Promise((res) => setImmediate(res));
    await new Promise((res) => setImmediate(res));
    expect(row(later!).status).toBe('pending');
  });

  it('stop() keeps extending the leases of the runs it waits for', async () => {
    const started = gate();
    const release = gate();
    const r = runner(
      async () => {
        started.open();
        await release.opened;
        return { kind: 'done' };
      },
      { leaseMs: 3_000, pollMs: 3_600_000 },
    );
    r.start();
    const [id] = queue.enqueue([job('slow-stop')], clock.now());
    await started.opened;
    const stopping = r.stop();
    // Past the lease it was claimed with: only the heartbeat (every second) keeps the job.
    clock.advance(10_000);
    const leasedUntil = () =>
      (
        database.sqlite.prepare('select locked_until from jobs where id = ?').get(id) as {
          locked_until: number;
        }
      ).locked_until;
    try {
      await until(() => leasedUntil() > clock.now(), 'the lease extended while stopping');
    } finally {
      release.open();
    }
    await stopping;
    expect(row(id!).status).toBe('succeeded');
  });

  it('a job that waits until now runs again at once, and stop() waits for that run too', async () => {
    const second = gate();
    const release = gate();
    let runs = 0;
    const r = runner(
      async () => {
        if (++runs === 1) return { kind: 'wait', runAt: clock.now(), reason: 'not visible yet' };
        second.open();
        await release.opened;
        return { kind: 'done' };
      },
      { pollMs: 3_600_000 },
    );
    r.start();
    const [id] = queue.enqueue([job('again')], clock.now());
    await second.opened;
    await stopWhileHeld(r, release);
    expect(row(id!).status).toBe('succeeded');
  });

  it('a follow-up that throws after the outcome is recorded is logged as such; the job stays done', async () => {
    const [id] = queue.enqueue([job('follow-up')], clock.now());
    const { logs, logger } = errorLines();
    const r = runner(
      async () => ({
        kind: 'done',
        afterSettle: () => {
          throw new Error('metrics gone');
        },
      }),
      { logger },
    );
    await r.runUntilEmpty();
    expect(logs).toEqual(['a job’s outcome was recorded, but what follows it failed']);
    expect(row(id!).status).toBe('succeeded');
  });

  it('a run whose outcome cannot be written is logged, and its job runs again after its lease', async () => {
    const [id] = queue.enqueue([job('unwritten')], clock.now());
    const { logs, logger } = errorLines();
    let refuse = true;
    const flaky = Object.create(queue) as SqliteJobQueue;
    flaky.settle = (s, now) => (refuse ? Promise.reject(new Error('disk I/O error')) : queue.settle(s, now));
    const r = runner(async () => ({ kind: 'done' }), {
      queue: flaky,
      leaseMs: 10_000,
      logger,
    });
    await r.runUntilEmpty();
    expect(logs).toEqual(['could not record a job’s outcome; it runs again after its lease']);
    expect(row(id!).status).toBe('running');
    refuse = false;
    clock.advance(10_001);
    await r.runUntilEmpty();
    expect(row(id!).status).toBe('succeeded');
  });

  it('at start, gives jobs left running by a dead process back to their lanes at once', async () => {
    const [id] = queue.enqueue([job('crashed')], clock.now());
    await claimNext(queue, clock.now(), 3_600_000); // running, leased for an hour, and its process is gone
    expect(await queue.recoverAbandoned(clock.now())).toBe(1);
    expect(row(id!)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row(id!).last_error).toMatch(/interrupted/);
    await runner(async () => ({ kind: 'done' })).runUntilEmpty();
    expect(row(id!).status).toBe('succeeded');
  });

  it('a run whose lease ran out and whose job was claimed again can neither complete, retry nor fail it', async () => {
    const [id] = queue.enqueue([job('stalled')], clock.now());
    const stale = (await claimNext(queue, clock.now(), 1_000))!;
    clock.advance(1_001);
    const fresh = (await claimNext(queue, clock.now(), 60_000))!;
    expect(fresh.id).toBe(id);
    expect(fresh.owner).not.toBe(stale.owner);
    const audited = () =>
      (
        settled(database)
          .prepare("select count(*) as n from audit_log where kind = 'patch.applied'")
          .get() as {
          n: number;
        }
      ).n;
    const audit = [
      {
        orgId: 'org-a',
        at: clock.now(),
        kind: 'patch.applied' as const,
        actor: { type: 'system' as const, job: 'job_x' },
        outcome: 'applied',
      },
    ];
    const outcomes = [
      { status: 'succeeded' },
      { status: 'pending', runAt: clock.now(), error: 'x', countAttempt: true },
      { status: 'failed', error: 'x', countAttempt: true },
    ] as const;
    for (const outcome of outcomes) {
      expect(await queue.settle({ job: stale, outcome, audit }, clock.now())).toBe(false);
    }
    expect(audited()).toBe(0);
    expect(row(id!)).toMatchObject({ status: 'running', attempts: 1, last_error: 'lease expired' });
    expect(await queue.settle({ job: fresh, outcome: { status: 'succeeded' }, audit }, clock.now())).toBe(
      true,
    );
    expect(audited()).toBe(1);
    expect(row(id!).status).toBe('succeeded');
  });

  it('a live run extends its lease, so nobody else claims its job while it waits', async () => {
    queue.enqueue([job('slow')], clock.now());
    const live = (await claimNext(queue, clock.now(), 1_000))!;
    clock.advance(900);
    await queue.extend([live.owner], clock.now(), 1_000);
    clock.advance(900);
    expect(await claimNext(queue, clock.now(), 1_000)).toBeUndefined();
    clock.advance(101);
    expect((await claimNext(queue, clock.now(), 1_000))?.id).toBe(live.id);
  });

  it('jobs folded together by a run that died are folded together again, whatever the limit', async () => {
    const ids = queue.enqueue(
      Array.from({ length: 6 }, (_, n) => job('lane', { n })),
      clock.now(),
    );
    const head = (await claimNext(queue, clock.now(), 60_000, [], {}, () => 3))!;
    expect(head.followers.map((j) => j.id)).toEqual(ids.slice(1, 4));
    // The process dies mid-PATCH; at the next start its jobs are recovered.
    expect(await queue.recoverAbandoned(clock.now())).toBe(4);
    // A limit of 1 still takes all three the dead run had folded (and one ready job beyond them
    // would be allowed too): an older value can never go out alone after a newer one did.
    const again = (await claimNext(queue, clock.now(), 60_000, [], {}, () => 1))!;
    expect(again.id).toBe(ids[0]);
    expect(again.followers.map((j) => j.id)).toEqual(ids.slice(1, 4));
  });

  it('followers are settled with their head: done with it and its attempts, or back to pending untouched', async () => {
    const ids = queue.enqueue(
      Array.from({ length: 3 }, (_, n) => job('lane', { n })),
      clock.now(),
    );
    let head = (await claimNext(queue, clock.now(), 60_000, [], {}, () => 10))!;
    const retryAt = clock.now() + 5_000;
    await queue.settle(
      {
        job: head,
        outcome: { status: 'pending', runAt: retryAt, error: 'HTTP 503', countAttempt: true },
        followers: head.followers,
      },
      clock.now(),
    );
    expect(ids.map((id) => row(id).status)).toEqual(['pending', 'pending', 'pending']);
    expect(row(ids[1]!)).toMatchObject({ attempts: 0, last_error: null });
    clock.advance(5_000);
    head = (await claimNext(queue, clock.now(), 60_000, [], {}, () => 10))!;
    expect(head.followers).toHaveLength(2);
    await queue.settle(
      { job: head, outcome: { status: 'succeeded' }, followers: head.followers },
      clock.now(),
    );
    expect(ids.map((id) => row(id).status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // They went out with the head's second run: its count is theirs.
    expect(ids.map((id) => row(id).attempts)).toEqual([2, 2, 2]);
  });

  it('reports an org’s backlog', async () => {
    queue.enqueue([job('1'), job('2')], clock.now());
    clock.advance(5000);
    queue.enqueue([job('3')], clock.now());
    expect(await queue.backlog('org-a')).toEqual({ pending: 3, oldestCreatedAt: clock.now() - 5000 });
    expect(await queue.backlog('org-none')).toEqual({ pending: 0, oldestCreatedAt: null });
  });
});
