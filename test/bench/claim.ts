/**
 * The job queue's claim at backlog sizes: for each backend, 1k, 100k and 1M pending deliver jobs
 * over 1,000 orgs (ten jobs a lane, so 1M pending is 100,000 lanes), then claims as a runner makes
 * them: up to 8 runs in flight (the runner's default concurrency), each claim folding up to
 * FOLD_LIMIT followers, settled done, `served` kept as the runner keeps it. What a run took out is
 * put back (untimed) as new jobs at the tails of the org's lanes, so the backlog stays at its size.
 * Claims/s counts claim + settle; p50/p99 are of the claim alone.
 *
 * Rows are seeded with one INSERT … SELECT per size (1M in seconds), growing the same database
 * from one size to the next. Each size runs up to BENCH_CLAIMS claims (default 2,000) or
 * BENCH_CLAIM_SECONDS seconds (default 6), whichever ends first.
 *
 * /metrics' queue depth is timed beside it: at each backlog size, then with BENCH_CLAIM_HISTORY
 * (default 1M) finished jobs added, as a week of history leaves them. It should follow the backlog,
 * not the history.
 *
 * Alone: `npx tsx test/bench/claim.ts` prints the tables; `--json` prints one JSON line (run.ts).
 * BENCH_CLAIM_SIZES=1000,100000 picks sizes; BENCH_CLAIM_BACKENDS=sqlite or pg picks backends.
 */
import { openDatabase } from '../../src/db/client.js';
import { FOLD_LIMIT } from '../../src/delivery/deliver.js';
import { PgJobQueue } from '../../src/queue/pg-store.js';
import type { Claimed, JobQueue } from '../../src/queue/queue.js';
import { SqliteJobQueue } from '../../src/queue/sqlite-store.js';
import { claimNext } from '../helpers/claim.js';
import { startPgDatabase } from '../helpers/pg-db.js';
import { tempDir } from '../helpers/tmp.js';

const ORGS = 1_000;
const PER_LANE = 10;
const IN_FLIGHT = 8;
const SIZES = (process.env.BENCH_CLAIM_SIZES ?? '1000,100000,1000000').split(',').map(Number);
const BACKENDS = (process.env.BENCH_CLAIM_BACKENDS ?? 'sqlite,pg').split(',');
const CLAIMS = Number(process.env.BENCH_CLAIMS ?? 2_000);
const SECONDS = Number(process.env.BENCH_CLAIM_SECONDS ?? 6);
const HISTORY = Number(process.env.BENCH_CLAIM_HISTORY ?? 1_000_000);
const LEASE = 60_000;
/** The bench's clock: every seeded job is due (run_at = its number, all below it). */
const NOW = 1_000_000_000_000;
const payload = JSON.stringify({ eventId: 'evt_bench', attributes: { tier: 'gold' } });

export interface ClaimRow {
  backend: string;
  pending: number;
  /** Followers a claim may take: 0 (the claim alone) or FOLD_LIMIT (as the runner claims). */
  fold: number;
  claims: number;
  claimsPerSec: number;
  /** Heads and followers taken per second. */
  jobsPerSec: number;
  p50: number;
  p99: number;
  seedSeconds: number;
}

/** What one /metrics scrape spends reading the queue's depth, at a backlog and a history. */
export interface DepthRow {
  backend: string;
  pending: number;
  finished: number;
  /** Median of DEPTH_READS calls of `queue.depth()`. */
  ms: number;
}

const DEPTH_READS = 5;

/**
 * Job number n: org n % 1000, lane (n / 1000) % lanes of its org, id and run_at growing with n
 * (ids are fixed-width so they sort as numbers). A backlog of `size` spreads every org's jobs
 * over size / 1000 / 10 lanes.
 */
const lanesFor = (size: number) => Math.max(1, Math.floor(size / ORGS / PER_LANE));

interface Backend {
  name: string;
  queue: JobQueue;
  /** Jobs numbered [from, to) for a backlog of `size` (see lanesFor), with `status`. */
  seed(from: number, to: number, size: number, status?: 'pending' | 'succeeded'): Promise<void>;
  /** One job numbered n for `org` at the tail of `lane`. */
  add(n: number, org: number, lane: number): Promise<void>;
  /** After seeding: the planner's statistics, as the server refreshes them. */
  analyze(): Promise<void>;
  close(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = tempDir('relay-bench-claim');
  const database = openDatabase(`${dir.path}/claim.sqlite`);
  database.migrate();
  const sqlite = database.sqlite;
  const seed = sqlite.prepare(
    `with recursive n(i) as (select @from union all select i + 1 from n where i + 1 < @to)
     insert into jobs (id, kind, org_id, lane, payload, status, attempts, max_attempts, run_at, created_at, updated_at)
     select printf('job_%012d', i), 'deliver', printf('org-%04d', i % ${ORGS}),
       printf('org-%04d/conv-%06d/p', i % ${ORGS}, (i / ${ORGS}) % @lanes), @payload, @status, 0, 10, i, i, i
     from n`,
  );
  const add = sqlite.prepare(
    `insert into jobs (id, kind, org_id, lane, payload, status, attempts, max_attempts, run_at, created_at, updated_at)
     values (printf('job_%012d', @n), 'deliver', printf('org-%04d', @org), printf('org-%04d/conv-%06d/p', @org, @lane),
       @payload, 'pending', 0, 10, @n, @n, @n)`,
  );
  return {
    name: 'SQLite',
    queue: new SqliteJobQueue(sqlite),
    seed: async (from, to, size, status = 'pending') => {
      seed.run({ from, to, lanes: lanesFor(size), payload, status });
    },
    add: async (n, org, lane) => {
      add.run({ n, org, lane, payload });
    },
    analyze: async () => database.optimize(),
    close: async () => {
      database.close();
      dir.cleanup();
    },
  };
}

async function pgBackend(): Promise<Backend> {
  const pg = await startPgDatabase();
  const sql = pg.database.sql;
  const queue = new PgJobQueue(pg.database);
  return {
    name: 'PostgreSQL',
    queue,
    seed: async (from, to, size, status = 'pending') => {
      const lanes = lanesFor(size);
      await sql`insert into jobs (id, kind, org_id, lane, payload, status, attempts, max_attempts, run_at, created_at, updated_at)
        select 'job_' || lpad(i::text, 12, '0'), 'deliver', 'org-' || lpad((i % ${ORGS})::text, 4, '0'),
          'org-' || lpad((i % ${ORGS})::text, 4, '0') || '/conv-' || lpad(((i / ${ORGS}) % ${lanes})::text, 6, '0') || '/p',
          ${payload}, ${status}, 0, 10, i, i, i
        from generate_series(${from}::bigint, ${to - 1}::bigint) i`;
    },
    add: async (n, org, lane) => {
      const o = `org-${String(org).padStart(4, '0')}`;
      await sql`insert into jobs (id, kind, org_id, lane, payload, status, attempts, max_attempts, run_at, created_at, updated_at)
        values (${`job_${String(n).padStart(12, '0')}`}, 'deliver', ${o}, ${`${o}/conv-${String(lane).padStart(6, '0')}/p`},
          ${payload}, 'pending', 0, 10, ${n}, ${n}, ${n})`;
    },
    analyze: async () => {
      await sql`vacuum analyze jobs`;
    },
    close: async () => {
      await queue.close();
      await pg.close();
    },
  };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** Claims like a runner with IN_FLIGHT slots, until CLAIMS claims or SECONDS have passed. */
async function measure(
  b: Backend,
  size: number,
  next: { n: number },
  fold: number,
): Promise<Omit<ClaimRow, 'seedSeconds'>> {
  const served: Record<string, number> = {};
  let tick = 0;
  let now = NOW;
  const inFlight: Claimed[] = [];
  const claimMs: number[] = [];
  let jobs = 0;
  let busyMs = 0;
  const lanes = lanesFor(size);
  const deadline = performance.now() + SECONDS * 1000;
  const settleOne = async () => {
    const run = inFlight.shift()!;
    const t = performance.now();
    await b.queue.settle({ job: run, outcome: { status: 'succeeded' }, followers: run.followers }, now);
    busyMs += performance.now() - t;
    // Put back what the run took out (untimed): new jobs at the tails of its org's lanes.
    const org = Number(run.orgId.slice(4));
    for (let k = 0; k <= run.followers.length; k++) {
      await b.add(next.n++, org, Math.floor(Math.random() * lanes));
    }
  };
  while (claimMs.length < CLAIMS && performance.now() < deadline) {
    if (inFlight.length === IN_FLIGHT) await settleOne();
    now++;
    const t = performance.now();
    const run = await claimNext(b.queue, now, LEASE, [], served, () => fold);
    const ms = performance.now() - t;
    busyMs += ms;
    if (!run) {
      if (inFlight.length === 0) throw new Error(`${b.name}: nothing claimable at ${size}`);
      await settleOne();
      continue;
    }
    claimMs.push(ms);
    jobs += 1 + run.followers.length;
    served[run.orgId] = ++tick;
    inFlight.push(run);
  }
  while (inFlight.length > 0) await settleOne();
  const sorted = [...claimMs].sort((a, c) => a - c);
  return {
    backend: b.name,
    pending: size,
    fold,
    claims: claimMs.length,
    claimsPerSec: claimMs.length / (busyMs / 1000),
    jobsPerSec: jobs / (busyMs / 1000),
    p50: pct(sorted, 50),
    p99: pct(sorted, 99),
  };
}

/** The median time of `queue.depth()`, and the jobs it counted. */
async function timeDepth(b: Backend): Promise<DepthRow> {
  const ms: number[] = [];
  let byStatus: Record<string, number> = {};
  for (let i = 0; i < DEPTH_READS; i++) {
    const t = performance.now();
    byStatus = (await b.queue.depth()).byStatus;
    ms.push(performance.now() - t);
  }
  return {
    backend: b.name,
    pending: byStatus.pending ?? 0,
    finished: (byStatus.succeeded ?? 0) + (byStatus.failed ?? 0),
    ms: pct(
      ms.sort((a, c) => a - c),
      50,
    ),
  };
}

export async function benchClaims(): Promise<{ claims: ClaimRow[]; depth: DepthRow[] }> {
  const rows: ClaimRow[] = [];
  const depth: DepthRow[] = [];
  for (const which of BACKENDS) {
    const b = which === 'pg' ? await pgBackend() : sqliteBackend();
    try {
      let seeded = 0;
      // Replenished jobs are numbered after every seeded one, so they sort last in their lanes.
      const next = { n: 10 * Math.max(...SIZES) };
      for (const size of SIZES) {
        const t = performance.now();
        // Growing the backlog: new jobs spread over this size's lanes (older sizes' lanes stay).
        if (size > seeded) await b.seed(seeded, size, size);
        seeded = Math.max(seeded, size);
        await b.analyze();
        const seedSeconds = (performance.now() - t) / 1000;
        try {
          // The claim alone (no followers: the same work at every size, the issue's 2× goal),
          // then as the runner claims (a lane's ready jobs folded: 0 at 1k, 9 at 100k and 1M).
          for (const fold of [0, FOLD_LIMIT]) {
            rows.push({ ...(await measure(b, size, next, fold)), seedSeconds });
          }
        } catch (err) {
          // A claim past the statement timeout: the row says so, the other backends still run.
          process.stderr.write(`claim bench: ${b.name} ${size} failed: ${String(err)}\n`);
          const failed = { claims: 0, claimsPerSec: 0, jobsPerSec: 0, p50: Number.NaN, p99: Number.NaN };
          rows.push({ backend: b.name, pending: size, fold: 0, ...failed, seedSeconds });
          break;
        }
        depth.push(await timeDepth(b));
        process.stderr.write(`claim bench: ${b.name} ${size} done\n`);
      }
      // A week of finished jobs behind the same backlog, numbered after every other job.
      await b.seed(next.n, next.n + HISTORY, Math.max(...SIZES), 'succeeded');
      await b.analyze();
      depth.push(await timeDepth(b));
    } finally {
      await b.close();
    }
  }
  return { claims: rows, depth };
}

/** The table run.ts prints. */
export function claimTable(rows: readonly ClaimRow[]): string {
  const head = ['pending', 'fold', 'claims', 'claims/s', 'jobs/s', 'p50 ms', 'p99 ms', 'vs 1k', 'seed s'];
  const out = [
    `\njob queue claim, ${ORGS.toLocaleString('en')} orgs, ${PER_LANE} jobs a lane, ${IN_FLIGHT} in flight (claims/s: claim + settle; jobs/s: heads and followers; p50/p99: claim; vs 1k: claims/s against the same fold at the smallest size)\n`,
    `${'backend'.padEnd(10)}${head.map((h) => h.padStart(10)).join('')}`,
  ];
  for (const r of rows) {
    const base = rows.find(
      (x) => x.backend === r.backend && x.fold === r.fold && x.pending === Math.min(...SIZES),
    );
    const ratio = base ? r.claimsPerSec / base.claimsPerSec : 1;
    out.push(
      `${r.backend.padEnd(10)}${[
        r.pending.toLocaleString('en'),
        String(r.fold),
        String(r.claims),
        r.claimsPerSec.toFixed(0),
        r.jobsPerSec.toFixed(0),
        r.p50.toFixed(2),
        r.p99.toFixed(2),
        ratio.toFixed(2),
        r.seedSeconds.toFixed(1),
      ]
        .map((c) => c.padStart(10))
        .join('')}`,
    );
  }
  return `${out.join('\n')}\n`;
}

/** The queue depth table run.ts prints after the claims. */
export function depthTable(rows: readonly DepthRow[]): string {
  const out = [
    `\nqueue depth for /metrics (median of ${DEPTH_READS} reads; it should follow the pending jobs, not the finished ones)\n`,
    `${'backend'.padEnd(12)}${['pending', 'finished', 'ms'].map((h) => h.padStart(12)).join('')}`,
  ];
  for (const r of rows)
    out.push(
      `${r.backend.padEnd(12)}${[
        r.pending.toLocaleString('en'),
        r.finished.toLocaleString('en'),
        r.ms.toFixed(2),
      ]
        .map((c) => c.padStart(12))
        .join('')}`,
    );
  return `${out.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchClaims();
  process.stdout.write(
    process.argv.includes('--json')
      ? `${JSON.stringify(result)}\n`
      : claimTable(result.claims) + depthTable(result.depth),
  );
}
