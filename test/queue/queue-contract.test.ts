import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, type RelayDatabase } from '../../src/db/client.js';
import { openPgDatabase, type PgDatabase } from '../../src/db/pg/client.js';
import { createLogger } from '../../src/lib/logger.js';
import { LANE_LOCK_CLASS, PgJobQueue } from '../../src/queue/pg-store.js';
import type { Job, JobQueue, NewJob } from '../../src/queue/queue.js';
import { Runner } from '../../src/queue/runner.js';
import { SqliteJobQueue } from '../../src/queue/sqlite-store.js';
import { settled } from '../helpers/audit-staged.js';
import { claimNext } from '../helpers/claim.js';
import { ManualClock } from '../helpers/clock.js';
import { startPgDatabase } from '../helpers/pg-db.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The same queue behaviours on both backends: whatever SQLite guarantees a runner, PostgreSQL
 * does too. One PostgreSQL server for the file, emptied between tests; a fresh SQLite file per test.
 */

interface JobRow {
  status: string;
  attempts: number;
  last_error: string | null;
}

interface Backend {
  queue: JobQueue;
  enqueue(jobs: readonly NewJob[], now: number): Promise<string[]>;
  row(id: string): Promise<JobRow>;
  audited(kind: string): Promise<number>;
  /** Deletes jobs as retention and the uninstall purge do. */
  remove(ids: readonly string[]): Promise<void>;
  /** Jobs by status, counted row by row (what depth() must agree with). */
  counted(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

let pg: Awaited<ReturnType<typeof startPgDatabase>>;
beforeAll(async () => {
  pg = await startPgDatabase();
});
afterAll(() => pg?.close());

function sqliteBackend(): Backend {
  const dir = tempDir('queue-contract');
  const database: RelayDatabase = openDatabase(`${dir.path}/q.sqlite`);
  database.migrate();
  const queue = new SqliteJobQueue(database.sqlite);
  return {
    queue,
    enqueue: async (jobs, now) => database.sqlite.transaction(() => queue.enqueue(jobs, now))(),
    row: async (id) =>
      database.sqlite.prepare('select status, attempts, last_error from jobs where id = ?').get(id) as JobRow,
    audited: async (kind) =>
      (
        settled(database).prepare('select count(*) as n from audit_log where kind = ?').get(kind) as {
          n: number;
        }
      ).n,
    remove: async (ids) => {
      database.sqlite
        .prepare('delete from jobs where id in (select value from json_each(?))')
        .run(JSON.stringify(ids));
    },
    counted: async () =>
      Object.fromEntries(
        (
          database.sqlite.prepare('select status, count(*) as n from jobs group by status').all() as {
            status: string;
            n: number;
          }[]
        ).map((r) => [r.status, r.n]),
      ),
    close: async () => {
      database.close();
      dir.cleanup();
    },
  };
}

async function pgBackend(): Promise<Backend> {
  const database: PgDatabase = pg.database;
  await database.sql`truncate jobs, finished_job_counts, audit_log, audit_heads`;
  const queue = new PgJobQueue(database);
  return {
    queue,
    enqueue: (jobs, now) => database.db.transaction((tx) => queue.enqueue(tx, jobs, now)),
    row: async (id) => {
      const [r] = await database.sql<
        JobRow[]
      >`select status, attempts, last_error from jobs where id = ${id}`;
      return r!;
    },
    audited: async (kind) => {
      const [r] = await database.sql<
        { n: number }[]
      >`select count(*)::int as n from audit_log where kind = ${kind}`;
      return r!.n;
    },
    remove: async (ids) => {
      await database.sql`delete from jobs where id = any(${ids as string[]})`;
    },
    counted: async () =>
      Object.fromEntries(
        (
          await database.sql<
            { status: string; n: number }[]
          >`select status, count(*)::int as n from jobs group by status`
        ).map((r) => [r.status, r.n]),
      ),
    close: () => queue.close(),
  };
}

const job = (lane: string, payload: unknown = {}, extra: Partial<NewJob> = {}): NewJob => ({
  kind: 'work',
  orgId: 'org-a',
  lane,
  payload,
  ...extra,
});

describe.each([
  ['SQLite', async () => sqliteBackend()],
  ['PostgreSQL', pgBackend],
] as const)('JobQueue contract on %s', (_name, open) => {
  let b: Backend;
  let clock: ManualClock;
  beforeEach(async () => {
    b = await open();
    clock = new ManualClock();
  });
  afterEach(() => b.close());

  const claim = (leaseMs = 60_000, paused: string[] = [], served = {}, fold?: (h: Job) => number) =>
    claimNext(b.queue, clock.now(), leaseMs, paused, served, fold);
  const done = (j: Job) => b.queue.settle({ job: j, outcome: { status: 'succeeded' } }, clock.now());

  it('a repeated idempotency key is the same job', async () => {
    const [first] = await b.enqueue([job('l', { n: 1 }, { idempotencyKey: 'k' })], clock.now());
    const again = await b.enqueue(
      [job('l', { n: 2 }, { idempotencyKey: 'k' }), job('m', { n: 3 }, { idempotencyKey: 'k2' })],
      clock.now(),
    );
    expect(again[0]).toBe(first);
    expect(again[1]).not.toBe(first);
    expect((await claim())?.payload).toEqual({ n: 1 });
  });

  it('keys may hold NUL (the delivery keys separate their parts with it) and backslashes', async () => {
    const keys = ['evt_1\u00000\u0000p', 'evt_1\\00\u0000p', 'evt_1\\\u00000\u0000p'];
    const ids = await b.enqueue(
      keys.map((k) => job('l', {}, { idempotencyKey: k })),
      clock.now(),
    );
    expect(new Set(ids).size).toBe(3);
    expect(await b.enqueue([job('l', {}, { idempotencyKey: keys[0] })], clock.now())).toEqual([ids[0]]);
  });

  it('runs a lane oldest first, one job at a time, while other lanes run beside it', async () => {
    const [a1, b1, a2] = await b.enqueue([job('a'), job('b'), job('a')], clock.now());
    const first = (await claim())!;
    const second = (await claim())!;
    expect([first.id, second.id]).toEqual([a1, b1]);
    expect(await claim()).toBeUndefined(); // a2 waits for a1
    await done(first);
    const third = (await claim())!;
    expect(third.id).toBe(a2);
  });

  it('runs lanes through a Runner in order with no lane ever running twice', async () => {
    for (let i = 0; i < 4; i++) await b.enqueue([job('lane-a', { i }), job('lane-b', { i })], clock.now());
    const active = new Set<string>();
    const order: Record<string, number[]> = { 'lane-a': [], 'lane-b': [] };
    const runner = new Runner({
      queue: b.queue,
      handlers: {
        work: async (j) => {
          expect(active.has(j.lane)).toBe(false);
          active.add(j.lane);
          await new Promise((r) => setTimeout(r, 1));
          order[j.lane]!.push((j.payload as { i: number }).i);
          active.delete(j.lane);
          return { kind: 'done' };
        },
      },
      clock,
      logger: createLogger('silent'),
      concurrency: 4,
    });
    // On PostgreSQL the runs in flight can all settle while a claim whose snapshot still saw them
    // running finds nothing (2–7 in 150 runs under load): runUntilEmpty must fill again then.
    await runner.runUntilEmpty();
    expect(order).toEqual({ 'lane-a': [0, 1, 2, 3], 'lane-b': [0, 1, 2, 3] });
  });

  it('a head waiting for its retry holds its lane; a wait does not count an attempt', async () => {
    const [first, second] = await b.enqueue([job('lane'), job('lane')], clock.now());
    const head = (await claim())!;
    expect(
      await b.queue.settle(
        {
          job: head,
          outcome: { status: 'pending', runAt: clock.now() + 10_000, error: 'HTTP 503', countAttempt: true },
        },
        clock.now(),
      ),
    ).toBe(true);
    expect(await b.row(first!)).toMatchObject({ status: 'pending', attempts: 1, last_error: 'HTTP 503' });
    expect(await claim()).toBeUndefined();
    clock.advance(10_000);
    const again = (await claim())!;
    expect(again.id).toBe(first);
    await b.queue.settle(
      { job: again, outcome: { status: 'pending', runAt: clock.now(), error: 'wait', countAttempt: false } },
      clock.now(),
    );
    expect((await b.row(first!)).attempts).toBe(1);
    await done((await claim())!);
    expect(await b.row(first!)).toMatchObject({ status: 'succeeded', attempts: 2, last_error: null });
    expect((await claim())?.id).toBe(second);
  });

  it('failed ends a job; its lane moves on', async () => {
    const [first, second] = await b.enqueue([job('lane'), job('lane')], clock.now());
    const head = (await claim())!;
    await b.queue.settle(
      { job: head, outcome: { status: 'failed', error: 'HTTP 400', countAttempt: true } },
      clock.now(),
    );
    expect(await b.row(first!)).toMatchObject({ status: 'failed', attempts: 1, last_error: 'HTTP 400' });
    expect((await claim())?.id).toBe(second);
  });

  it('an expired lease makes the job claimable again, counting the lost attempt', async () => {
    const [id] = await b.enqueue([job('crash')], clock.now());
    const lost = (await claim(30_000))!;
    expect(lost.id).toBe(id);
    clock.advance(30_000);
    expect(await claim()).toBeUndefined();
    clock.advance(1);
    const again = (await claim())!;
    expect([again.id, again.attempts, again.lastError]).toEqual([id, 1, 'lease expired']);
    expect(again.owner).not.toBe(lost.owner);
  });

  it('a stale owner’s settle changes nothing, its audit rows included', async () => {
    const [id] = await b.enqueue([job('stalled')], clock.now());
    const stale = (await claim(1_000))!;
    clock.advance(1_001);
    const fresh = (await claim())!;
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
      expect(await b.queue.settle({ job: stale, outcome, audit }, clock.now())).toBe(false);
    }
    expect(await b.audited('patch.applied')).toBe(0);
    expect(await b.row(id!)).toMatchObject({ status: 'running', attempts: 1, last_error: 'lease expired' });
    expect(await b.queue.settle({ job: fresh, outcome: { status: 'succeeded' }, audit }, clock.now())).toBe(
      true,
    );
    expect(await b.audited('patch.applied')).toBe(1);
    expect((await b.row(id!)).status).toBe('succeeded');
  });

  it('a stale run and the run that took its job, settling together: only the live one counts', async () => {
    const [id] = await b.enqueue([job('both')], clock.now());
    const stale = (await claim(1_000))!;
    clock.advance(1_001);
    const fresh = (await claim())!;
    const audit = (run: string) => [
      {
        orgId: 'org-a',
        at: clock.now(),
        kind: 'patch.applied' as const,
        actor: { type: 'system' as const, job: run },
        outcome: 'applied',
      },
    ];
    // The same turn: one settle batch holds both runs of the job.
    const answers = await Promise.all([
      b.queue.settle({ job: stale, outcome: { status: 'succeeded' }, audit: audit('stale') }, clock.now()),
      b.queue.settle({ job: fresh, outcome: { status: 'succeeded' }, audit: audit('fresh') }, clock.now()),
    ]);
    expect(answers).toEqual([false, true]);
    expect(await b.audited('patch.applied')).toBe(1);
    expect((await b.row(id!)).status).toBe('succeeded');
  });

  it('extend keeps a live run’s lease, followers included', async () => {
    await b.enqueue([job('slow'), job('slow')], clock.now());
    const live = (await claim(1_000, [], {}, () => 1))!;
    expect(live.followers).toHaveLength(1);
    clock.advance(900);
    await b.queue.extend([live.owner], clock.now(), 1_000);
    clock.advance(900);
    expect(await claim(1_000)).toBeUndefined();
    clock.advance(101);
    const again = (await claim(1_000, [], {}, () => 1))!;
    expect(again.id).toBe(live.id);
    expect(again.followers.map((f) => f.id)).toEqual(live.followers.map((f) => f.id));
  });

  it('serves the org with fewer running jobs first, then the one served longest ago', async () => {
    await b.enqueue(
      Array.from({ length: 5 }, (_, i) => job(`a-${i}`)),
      clock.now(),
    );
    clock.advance(1);
    await b.enqueue([job('b-0', {}, { orgId: 'org-b' }), job('b-1', {}, { orgId: 'org-b' })], clock.now());
    const first = (await claim())!;
    expect(first.orgId).toBe('org-a'); // oldest, nobody running
    expect((await claim())!.orgId).toBe('org-b'); // org-a has one running
    // Both have one running: the org this worker served longer ago goes first.
    expect((await claim(60_000, [], { 'org-a': 2, 'org-b': 1 }))!.orgId).toBe('org-b');
    expect((await claim(60_000, [], { 'org-a': 1, 'org-b': 2 }))!.orgId).toBe('org-a');
  });

  it('with more orgs than a batch, serves the oldest head of each rank, org by org', async () => {
    // 40 orgs nobody served yet (a rank wider than WIDE_RANK), two lanes each, oldest org first.
    const orgs = Array.from({ length: 40 }, (_, i) => `org-${String(i).padStart(2, '0')}`);
    for (const orgId of orgs) {
      await b.enqueue([job(`${orgId}/x`, {}, { orgId }), job(`${orgId}/y`, {}, { orgId })], clock.now());
      clock.advance(1);
    }
    const served: Record<string, number> = {};
    const order: string[] = [];
    for (let tick = 1; tick <= 45; tick++) {
      const j = (await claim(60_000, [], served))!;
      served[j.orgId] = tick;
      order.push(`${j.orgId}/${j.lane.slice(-1)}`);
    }
    // Each org once (fewest running first, then oldest), then again, served longest ago first.
    expect(order).toEqual([...orgs.map((o) => `${o}/x`), ...orgs.slice(0, 5).map((o) => `${o}/y`)]);
  });

  it('a wide rank whose heads are all past the oldest jobs is still served oldest first', async () => {
    // The oldest 1,001 jobs are one busy lane's, so the unserved orgs' heads are past them.
    await b.enqueue(
      Array.from({ length: 1_001 }, (_, n) => job('busy', { n }, { orgId: 'org-busy' })),
      clock.now(),
    );
    expect((await claim())?.orgId).toBe('org-busy');
    clock.advance(1);
    for (let i = 0; i < 40; i++) {
      await b.enqueue([job(`l-${i}`, {}, { orgId: `org-${String(40 - i).padStart(2, '0')}` })], clock.now());
      clock.advance(1);
    }
    expect((await claim())?.orgId).toBe('org-40');
    expect((await claim(60_000, [], { 'org-40': 1 }))?.orgId).toBe('org-39');
  });

  it('claimSome fills several slots at once, as one claim after another would: orgs in turn, one job a lane', async () => {
    await b.enqueue(
      [...['a-0', 'a-1', 'a-2'].map((l) => job(l)), job('b-0', {}, { orgId: 'org-b' }), job('a-0')],
      clock.now(),
    );
    const taken = await b.queue.claimSome(clock.now(), 60_000, 10, [], {});
    // org-a's oldest head, then org-b (fewer running), then org-a's other lanes; a-0's second
    // job waits behind its head, and paused or not, nothing is taken twice.
    expect(taken.map((j) => j.lane)).toEqual(['a-0', 'b-0', 'a-1', 'a-2']);
    expect(new Set(taken.map((j) => j.owner)).size).toBe(4);
    expect(await b.queue.claimSome(clock.now(), 60_000, 10)).toEqual([]);
    await done(taken[0]!);
    const [next] = await b.queue.claimSome(clock.now(), 60_000, 10, ['org-b']);
    expect(next?.lane).toBe('a-0');
  });

  it('claimSome goes back to an org it just served while that org is still the least busy', async () => {
    await b.enqueue(
      ['b-0', 'b-1', 'b-2'].map((l) => job(l, {}, { orgId: 'org-b' })),
      clock.now(),
    );
    expect((await b.queue.claimSome(clock.now(), 60_000, 2, ['org-a'])).map((j) => j.lane)).toEqual([
      'b-0',
      'b-1',
    ]);
    clock.advance(1);
    await b.enqueue([job('a-0'), job('a-1')], clock.now());
    // org-b's b-2 is older, but org-b runs two jobs: org-a, with one after its first, goes again.
    const taken = await b.queue.claimSome(clock.now(), 60_000, 3, []);
    expect(taken.map((j) => j.lane)).toEqual(['a-0', 'a-1', 'b-2']);
  });

  it('claimSome counts what it has just claimed as running: an org that was least busy stops being so', async () => {
    await b.enqueue(
      ['b-0', 'b-1', 'b-2'].map((l) => job(l, {}, { orgId: 'org-b' })),
      clock.now(),
    );
    await b.queue.claimSome(clock.now(), 60_000, 2, ['org-a']);
    clock.advance(1);
    await b.enqueue([job('a-0'), job('a-1'), job('a-2')], clock.now());
    // org-a runs nothing and org-b two: org-a twice, then both run two and org-b was served longer ago.
    const taken = await b.queue.claimSome(clock.now(), 60_000, 3, []);
    expect(taken.map((j) => j.lane)).toEqual(['a-0', 'a-1', 'b-2']);
  });

  it('claimSome takes back a head whose run died, once, and goes on to the next lane', async () => {
    await b.enqueue([job('x')], clock.now());
    await claim(30_000); // its run dies: the lease runs out
    clock.advance(1);
    await b.enqueue([job('y')], clock.now());
    clock.advance(30_000);
    const taken = await b.queue.claimSome(clock.now(), 60_000, 5);
    expect(taken.map((j) => [j.lane, j.attempts])).toEqual([
      ['x', 1],
      ['y', 0],
    ]);
  });

  it('claimSome takes no more than asked, and skips paused orgs', async () => {
    await b.enqueue([job('x'), job('y'), job('z', {}, { orgId: 'org-b' })], clock.now());
    expect((await b.queue.claimSome(clock.now(), 60_000, 1, ['org-a'])).map((j) => j.lane)).toEqual(['z']);
    expect((await b.queue.claimSome(clock.now(), 60_000, 1)).map((j) => j.lane)).toEqual(['x']);
  });

  it('skips paused orgs without blocking others', async () => {
    await b.enqueue([job('x'), job('y', {}, { orgId: 'org-b' })], clock.now());
    expect((await claim(60_000, ['org-a']))?.orgId).toBe('org-b');
    expect(await claim(60_000, ['org-a'])).toBeUndefined();
    expect((await claim())?.orgId).toBe('org-a');
  });

  it('folds ready followers up to the limit; a dead run’s folded jobs are refolded whatever the limit', async () => {
    const ids = await b.enqueue(
      Array.from({ length: 6 }, (_, n) => job('lane', { n })),
      clock.now(),
    );
    const head = (await claim(1_000, [], {}, () => 3))!;
    expect(head.followers.map((j) => j.id)).toEqual(ids.slice(1, 4));
    expect(head.followers.every((f) => f.owner === head.owner)).toBe(true);
    clock.advance(1_001); // the run died
    const again = (await claim(60_000, [], {}, () => 1))!;
    expect(again.id).toBe(ids[0]);
    expect(again.followers.map((j) => j.id)).toEqual(ids.slice(1, 5));
  });

  it('followers settle with their head: done with its attempts, or back to pending untouched', async () => {
    const ids = await b.enqueue(
      Array.from({ length: 3 }, (_, n) => job('lane', { n })),
      clock.now(),
    );
    let head = (await claim(60_000, [], {}, () => 10))!;
    await b.queue.settle(
      {
        job: head,
        outcome: { status: 'pending', runAt: clock.now() + 5_000, error: 'HTTP 503', countAttempt: true },
        followers: head.followers,
      },
      clock.now(),
    );
    expect((await Promise.all(ids.map((id) => b.row(id)))).map((r) => r.status)).toEqual([
      'pending',
      'pending',
      'pending',
    ]);
    expect(await b.row(ids[1]!)).toMatchObject({ attempts: 0, last_error: null });
    clock.advance(5_000);
    head = (await claim(60_000, [], {}, () => 10))!;
    expect(head.followers).toHaveLength(2);
    await b.queue.settle(
      { job: head, outcome: { status: 'succeeded' }, followers: head.followers },
      clock.now(),
    );
    const rows = await Promise.all(ids.map((id) => b.row(id)));
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ['succeeded', 2],
      ['succeeded', 2],
      ['succeeded', 2],
    ]);
  });

  it('reports an org’s backlog and the depth by status', async () => {
    await b.enqueue([job('1'), job('2')], clock.now());
    const start = clock.now();
    clock.advance(5000);
    await b.enqueue([job('3'), job('4', {}, { orgId: 'org-b' })], clock.now());
    await done((await claim(60_000, ['org-b']))!);
    expect(await b.queue.backlog('org-a')).toEqual({ pending: 2, oldestCreatedAt: start });
    expect(await b.queue.backlog('org-none')).toEqual({ pending: 0, oldestCreatedAt: null });
    expect(await b.queue.depth()).toEqual({
      byStatus: { pending: 3, succeeded: 1 },
      oldestCreatedAt: start,
    });
  });

  it('keeps the depth of finished jobs exact as jobs finish, retry and are deleted', async () => {
    const ids = await b.enqueue(
      ['a', 'b', 'c', 'd', 'e'].map((l) => job(l)),
      clock.now(),
    );
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push((await claim())!);
    await done(runs[0]!);
    await done(runs[1]!);
    const failed = { status: 'failed', error: 'no', countAttempt: true } as const;
    await b.queue.settle({ job: runs[2]!, outcome: failed }, clock.now());
    const retry = { status: 'pending', runAt: clock.now(), error: 'x', countAttempt: true } as const;
    await b.queue.settle({ job: runs[3]!, outcome: retry }, clock.now());
    expect((await b.queue.depth()).byStatus).toEqual({ pending: 1, running: 1, succeeded: 2, failed: 1 });
    // Retention takes finished jobs, the uninstall purge every job of the org.
    await b.remove([ids[0]!, ids[2]!, ids[3]!]);
    expect((await b.queue.depth()).byStatus).toEqual(await b.counted());
    expect((await b.queue.depth()).byStatus).toEqual({ running: 1, succeeded: 1 });
    await b.remove(ids);
    expect((await b.queue.depth()).byStatus).toEqual({});
  });

  it('onWork fires on enqueue and on a retry', async () => {
    let woken = 0;
    const off = b.queue.onWork(() => woken++);
    await b.enqueue([job('w')], clock.now());
    await new Promise((r) => setTimeout(r, 20));
    expect(woken).toBeGreaterThan(0);
    const before = woken;
    const head = (await claim())!;
    await b.queue.settle(
      { job: head, outcome: { status: 'pending', runAt: clock.now(), error: 'x', countAttempt: true } },
      clock.now(),
    );
    expect(woken).toBeGreaterThan(before);
    off();
  });
});

describe('PgJobQueue across instances', () => {
  let a: PgDatabase;
  let c: PgDatabase;
  beforeAll(() => {
    a = openPgDatabase(pg.url, { max: 4 });
    c = openPgDatabase(pg.url, { max: 4 });
  });
  afterAll(async () => {
    await a?.close();
    await c?.close();
  });
  beforeEach(async () => {
    await pg.database.sql`truncate jobs, finished_job_counts, audit_log, audit_heads`;
  });

  it('two instances claiming 200 jobs in 20 lanes at once never run one job twice or two of a lane', async () => {
    const qa = new PgJobQueue(a);
    const qc = new PgJobQueue(c);
    const now = 1_000_000;
    const jobs = Array.from({ length: 200 }, (_, i) =>
      job(`lane-${i % 20}`, { i }, { orgId: `org-${i % 3}` }),
    );
    const ids = await a.db.transaction((tx) => qa.enqueue(tx, jobs, now));
    const running = new Map<string, string>();
    const ran: string[] = [];
    const byLane = new Map<string, string[]>();
    const violations: string[] = [];
    const worker = async (q: PgJobQueue) => {
      let idle = 0;
      while (ran.length < 200 && idle < 200) {
        const j = await claimNext(q, now, 60_000);
        if (!j) {
          idle++;
          await new Promise((r) => setTimeout(r, 2));
          continue;
        }
        idle = 0;
        if (running.has(j.lane)) violations.push(`${j.lane} ran ${running.get(j.lane)} and ${j.id}`);
        if (ran.includes(j.id)) violations.push(`${j.id} ran twice`);
        running.set(j.lane, j.id);
        ran.push(j.id);
        byLane.set(j.lane, [...(byLane.get(j.lane) ?? []), j.id]);
        await new Promise((r) => setTimeout(r, Math.random() * 2));
        running.delete(j.lane);
        expect(await q.settle({ job: j, outcome: { status: 'succeeded' } }, now)).toBe(true);
      }
    };
    await Promise.all([0, 1, 2, 3].flatMap(() => [worker(qa), worker(qc)]));
    expect(violations).toEqual([]);
    expect([...ran].sort()).toEqual([...ids].sort());
    for (const laneIds of byLane.values()) expect(laneIds).toEqual([...laneIds].sort());
    // Each instance's connections counted into shards of their own; the depth is their sum.
    const [shards] = await a.sql<{ n: number }[]>`select count(*)::int as n from finished_job_counts`;
    expect(shards!.n).toBeGreaterThan(1);
    expect((await qa.depth()).byStatus).toEqual({ succeeded: 200 });
  });

  it('a claim of several heads skips those another instance holds (row or lane) and takes the rest', async () => {
    const qa = new PgJobQueue(a);
    const now = 1_000_000;
    const orgs = ['org-a', 'org-b', 'org-c', 'org-d', 'org-e'];
    const ids = await a.db.transaction((tx) =>
      qa.enqueue(
        tx,
        orgs.map((org) => job(`${org}-lane`, {}, { orgId: org })),
        now,
      ),
    );
    let release = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    let held = () => {};
    const holding = new Promise<void>((r) => {
      held = r;
    });
    // Another instance is claiming org-b's head (its row) and org-c's lane (its advisory lock).
    const other = c.sql.begin(async (tx) => {
      await tx`select 1 from jobs where id = ${ids[1]!} for update`;
      await tx`select pg_advisory_xact_lock(${LANE_LOCK_CLASS}::int, hashtext('org-c-lane'))`;
      held();
      await released;
    });
    await holding;
    try {
      const taken = await qa.claimSome(now, 60_000, 10);
      expect(taken.map((j) => j.orgId).sort()).toEqual(['org-a', 'org-d', 'org-e']);
      expect(new Set(taken.map((j) => j.owner)).size).toBe(3);
    } finally {
      release();
      await other;
    }
    expect((await qa.claimSome(now, 60_000, 10)).map((j) => j.orgId).sort()).toEqual(['org-b', 'org-c']);
  });

  it('a job committed late with an older id does not run beside its lane’s running job', async () => {
    const qa = new PgJobQueue(a);
    const now = 1_000_000;
    await a.db.transaction((tx) => qa.enqueue(tx, [job('late')], now));
    const running = (await claimNext(qa, now, 60_000))!;
    await a.sql`insert into jobs (id, kind, org_id, lane, payload, status, attempts, max_attempts, run_at, created_at, updated_at)
      values ('job_0', 'work', 'org-a', 'late', '{}', 'pending', 0, 10, ${now}, ${now}, ${now})`;
    expect(await claimNext(qa, now, 60_000)).toBeUndefined();
    await qa.settle({ job: running, outcome: { status: 'succeeded' } }, now);
    expect((await claimNext(qa, now, 60_000))?.id).toBe('job_0');
  });

  it('recoverAbandoned takes nothing back: a running job may be another live instance’s', async () => {
    const qa = new PgJobQueue(a);
    const qc = new PgJobQueue(c);
    const [id] = await a.db.transaction((tx) => qa.enqueue(tx, [job('live')], 1));
    const live = (await claimNext(qa, 1, 60_000))!;
    expect(await qc.recoverAbandoned(2)).toBe(0);
    expect(await claimNext(qc, 2, 60_000)).toBeUndefined();
    expect(await qa.settle({ job: live, outcome: { status: 'succeeded' } }, 3)).toBe(true);
    const [r] = await a.sql<
      { status: string; attempts: number }[]
    >`select status, attempts from jobs where id = ${id!}`;
    expect(r).toEqual({ status: 'succeeded', attempts: 1 });
  });

  it('lanes blocked by a late older job do not crowd other lanes out of a claim', async () => {
    const qa = new PgJobQueue(a);
    const now = 1_000_000;
    await a.db.transaction((tx) =>
      qa.enqueue(
        tx,
        Array.from({ length: 10 }, (_, i) => job(`blocked-${i}`)),
        now,
      ),
    );
    for (let i = 0; i < 10; i++) await claimNext(qa, now, 60_000);
    // Ten late jobs with older ids (the test server collates in C: "-" sorts before digits): each
    // looks like its lane's head, but its lane is running.
    for (let i = 0; i < 10; i++) {
      await a.sql`insert into jobs (id, kind, org_id, lane, payload, status, attempts, max_attempts, run_at, created_at, updated_at)
        values (${`job_-${i}`}, 'work', 'org-a', ${`blocked-${i}`}, '{}', 'pending', 0, 10, ${now}, ${now}, ${now})`;
    }
    const [free] = await a.db.transaction((tx) => qa.enqueue(tx, [job('free')], now + 1));
    expect((await claimNext(qa, now + 1, 60_000))?.id).toBe(free);
  });

  it('a Runner on one instance runs a job another instance enqueued, woken by NOTIFY not the poll', async () => {
    const qa = new PgJobQueue(a);
    const qc = new PgJobQueue(c);
    let ran!: (id: string) => void;
    const done = new Promise<string>((r) => {
      ran = r;
    });
    const runner = new Runner({
      queue: qc,
      handlers: {
        work: async (j) => {
          ran(j.id);
          return { kind: 'done' };
        },
      },
      clock: new ManualClock(),
      logger: createLogger('silent'),
      pollMs: 3_600_000,
    });
    runner.start();
    await qc.ready();
    try {
      const [id] = await a.db.transaction((tx) => qa.enqueue(tx, [job('remote')], 0));
      expect(await done).toBe(id);
    } finally {
      await runner.stop();
      await qc.close();
    }
  });

  it('an org another instance enqueues for is claimable as soon as its NOTIFY wakes a runner', async () => {
    const qa = new PgJobQueue(a);
    const qc = new PgJobQueue(c);
    const now = 1_000_000;
    let woken = 0;
    qc.onWork(() => woken++);
    await qc.ready();
    await a.db.transaction((tx) => qa.enqueue(tx, [job('first')], now));
    // qc reads the orgs with pending jobs (org-a) and keeps them for a while.
    expect((await claimNext(qc, now, 60_000))?.orgId).toBe('org-a');
    const seen = woken;
    const [id] = await a.db.transaction((tx) => qa.enqueue(tx, [job('new', {}, { orgId: 'org-new' })], now));
    await vi.waitFor(() => expect(woken).toBeGreaterThan(seen));
    expect((await claimNext(qc, now, 60_000))?.id).toBe(id);
    await qc.close();
    await qa.close();
  });

  it('a NOTIFY naming no orgs (an older instance) makes the next claim read them again', async () => {
    const qc = new PgJobQueue(c);
    const now = 1_000_000;
    let woken = 0;
    qc.onWork(() => woken++);
    await qc.ready();
    expect(await claimNext(qc, now, 60_000)).toBeUndefined();
    await a.sql`insert into jobs (id, kind, org_id, lane, payload, status, attempts, max_attempts, run_at, created_at, updated_at)
      values ('job_old', 'work', 'org-old', 'old', '{}', 'pending', 0, 10, ${now}, ${now}, ${now})`;
    await a.sql`select pg_notify('relay_jobs', '')`;
    await vi.waitFor(() => expect(woken).toBeGreaterThan(0));
    expect((await claimNext(qc, now, 60_000))?.id).toBe('job_old');
    await qc.close();
  });

  it('instances claiming against each other over many orgs still run each lane in order, once', async () => {
    const qa = new PgJobQueue(a);
    const qc = new PgJobQueue(c);
    const now = 1_000_000;
    // 50 orgs (a wide rank), 3 lanes each, 4 jobs a lane.
    const jobs = Array.from({ length: 600 }, (_, i) =>
      job(`lane-${i % 150}`, { i }, { orgId: `org-${i % 50}` }),
    );
    const ids = await a.db.transaction((tx) => qa.enqueue(tx, jobs, now));
    const running = new Set<string>();
    const ran: string[] = [];
    const byLane = new Map<string, string[]>();
    const violations: string[] = [];
    const worker = async (q: PgJobQueue) => {
      const served: Record<string, number> = {};
      let idle = 0;
      while (ran.length < ids.length && idle < 200) {
        const j = await claimNext(q, now, 60_000, [], served, () => 1);
        if (!j) {
          idle++;
          await new Promise((r) => setTimeout(r, 2));
          continue;
        }
        idle = 0;
        served[j.orgId] = ran.length;
        for (const k of [j, ...j.followers]) {
          if (ran.includes(k.id)) violations.push(`${k.id} ran twice`);
          ran.push(k.id);
          byLane.set(k.lane, [...(byLane.get(k.lane) ?? []), k.id]);
        }
        if (running.has(j.lane)) violations.push(`${j.lane} ran twice at once`);
        running.add(j.lane);
        await new Promise((r) => setTimeout(r, Math.random() * 2));
        running.delete(j.lane);
        expect(
          await q.settle({ job: j, outcome: { status: 'succeeded' }, followers: j.followers }, now),
        ).toBe(true);
      }
    };
    await Promise.all([0, 1, 2, 3].flatMap(() => [worker(qa), worker(qc)]));
    expect(violations).toEqual([]);
    expect([...ran].sort()).toEqual([...ids].sort());
    for (const laneIds of byLane.values()) expect(laneIds).toEqual([...laneIds].sort());
  });

  it('a lease extension skips a row a settle holds instead of waiting for it (no deadlock)', async () => {
    const qa = new PgJobQueue(a);
    const now = 1_000_000;
    await a.db.transaction((tx) => qa.enqueue(tx, [job('x'), job('y')], now));
    const x = (await claimNext(qa, now, 1_000))!;
    const y = (await claimNext(qa, now, 1_000))!;
    const leases = async () =>
      Object.fromEntries(
        (
          await c.sql<
            { lane: string; locked_until: string }[]
          >`select lane, locked_until from jobs order by lane`
        ).map((r) => [r.lane, Number(r.locked_until)]),
      );
    // Another connection holds x's row, as a settle batch does until it commits.
    await c.sql.begin(async (tx) => {
      await tx`select id from jobs where id = ${x.id} for update`;
      const extended = qa.extend([x.owner, y.owner], now + 500, 1_000).then(() => 'extended');
      const stuck = new Promise((r) => setTimeout(() => r('waited for the held row'), 5_000).unref());
      expect(await Promise.race([extended, stuck])).toBe('extended');
    });
    expect(await leases()).toEqual({ x: now + 1_000, y: now + 1_500 });
    await qa.extend([x.owner, y.owner], now + 600, 1_000); // the next heartbeat reaches x
    expect(await leases()).toEqual({ x: now + 1_600, y: now + 1_600 });
    await qa.close();
  });

  it('an enqueue on one instance wakes the other through NOTIFY', async () => {
    const qa = new PgJobQueue(a);
    const qc = new PgJobQueue(c);
    let woken!: () => void;
    const wake = new Promise<void>((r) => {
      woken = r;
    });
    qc.onWork(() => woken());
    await qc.ready();
    await a.db.transaction((tx) => qa.enqueue(tx, [job('n')], 1));
    await wake;
    await qc.close();
    await qa.close();
  });
});
