/**
 * What a vendor pays per event, end to end, on SQLite and on PostgreSQL (one instance): a real
 * server process (built, dist/main.js, as `npm start` runs it), the Genesys emulator in its own process (BENCH_PERF_LATENCY_MS,
 * default 20 ms a call, no rate limit) and the load generator in this one, all on one machine.
 * Three cases per backend, each on a fresh database:
 *
 * - delivery: BENCH_PERF_EVENTS (default 12,000) signed events from 64 senders, each to a
 *   conversation of its own (a read and a PATCH each), over 40 orgs at 6,000 requests/min (an
 *   org's budget caps at 100 calls/s, so 1,500 deliveries/s need 30 orgs or more). Patched
 *   events/s count from the first send to the last PATCH; CPU is the server process's (user +
 *   system) over the same span, per delivered event; storage is the growth of every table per
 *   event; RSS the highest seen.
 * - ingest: the signing load generator (ingest-load.ts, autocannon, BENCH_SECONDS) alone, then
 *   again while a steady feed of events to fresh conversations keeps delivery busy at 80 % of the
 *   delivery case's rate: throughput and p99 of the signed ingest, alone and while delivering.
 * - orgs: BENCH_PERF_ORGS (200) orgs at the default 300 requests/min, each sent 160 events to
 *   conversations of their own (320 calls: more than a minute's budget), round robin, watched for
 *   BENCH_PERF_WINDOW_S (62) seconds from each org's first call. Each org's busiest 60 s at the
 *   emulator: 300 is its full budget (and no minute may hold more); the spread between orgs is the
 *   fairness; CPU per event beside the delivery case's.
 * - memory: signed events at BENCH_PERF_MEMORY_RATE (default 2,000/s, open loop) for
 *   BENCH_PERF_MEMORY_S seconds (default 3 × BENCH_SECONDS) over the delivery case's orgs, while
 *   delivery works through what it can (the rest waits in the queue): the relay's RSS every second,
 *   its peak, and how it moved from the second quarter of the run to the last, as events and
 *   backlog grew (memory that follows history shows there).
 *
 * Prints one JSON line (for run.ts) and asserts nothing; `notes` say what looked wrong. Runs
 * alone too: `npx tsx test/bench/perf.ts` (BENCH_PERF_CASES=delivery,ingest,orgs,memory and
 * BENCH_PERF_BACKENDS=sqlite,postgres pick; BENCH_PERF_DELIVERY_RATE stands in for the delivery
 * case's rate when the ingest case runs without it).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startPostgres } from '../helpers/postgres.js';
import { signedPost } from '../helpers/signed.js';
import {
  type Backend,
  call,
  cpuMs,
  installOrg,
  type Org,
  postgresBackend,
  procs,
  type Recorded,
  ROOT,
  sleep,
  spawnEntry,
  spawnJson,
  sqliteBackend,
  startEmulator,
  stop,
  summary,
} from './harness.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const EVENTS = Number(process.env.BENCH_PERF_EVENTS ?? 12_000);
const LATENCY_MS = Number(process.env.BENCH_PERF_LATENCY_MS ?? 20);
const DELIVERY_ORGS = 40;
const SENDERS = 64;
const FAIR_ORGS = Number(process.env.BENCH_PERF_ORGS ?? 200);
const FAIR_EVENTS_PER_ORG = 160;
const FAIR_WINDOW_MS = Number(process.env.BENCH_PERF_WINDOW_S ?? 62) * 1000;
const DEFAULT_BUDGET = 300;
/** The ingest case's delivery rate when the delivery case did not run (its feed is 80 % of it). */
const DELIVERY_RATE = Number(process.env.BENCH_PERF_DELIVERY_RATE ?? 500);
const MEMORY_RATE = Number(process.env.BENCH_PERF_MEMORY_RATE ?? 2_000);
const MEMORY_S = Number(process.env.BENCH_PERF_MEMORY_S ?? 3 * SECONDS);
const CASES = (process.env.BENCH_PERF_CASES ?? 'delivery,ingest,orgs,memory').split(',');
const BACKENDS = (process.env.BENCH_PERF_BACKENDS ?? 'sqlite,postgres').split(',');
const DRAIN_TIMEOUT_MS = 180_000;
/** BENCH_PERF_TRICKLE=<events/s>: while the delivery case drains, unmatched events arrive at this rate. */
const TRICKLE = Number(process.env.BENCH_PERF_TRICKLE ?? 0);

/** A running relay: its URL, its process, and what it logged. */
interface Relay {
  url: string;
  pid: number;
  stop(): Promise<string[]>;
}

async function startRelay(emu: string, backend: Backend): Promise<Relay> {
  const { proc, url } = await spawnEntry(
    `${backend.name} relay`,
    'dist/main.js',
    {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      RELAY_MASTER_KEY: randomBytes(32).toString('base64url'),
      GENESYS_BASE_URL: emu,
      ...backend.env,
    },
    'listening',
  );
  // Once: a case stops it to read what it logged, and again in its `finally` if it threw first.
  let stopped: Promise<string[]> | undefined;
  return {
    url,
    pid: proc.child.pid!,
    stop: () =>
      (stopped ??= stop(proc).then(() =>
        proc.problems.size > 0 ? [`relay logged: ${summary(proc.problems)}`] : [],
      )),
  };
}

/** Resident memory of a process in MB (Linux /proc). */
function rssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : 0;
}

/** Samples a process's RSS every `everyMs` until stopped; returns the samples, in order. */
function watchRss(pid: number, everyMs = 250): () => number[] {
  const samples = [rssMb(pid)];
  const timer = setInterval(() => samples.push(rssMb(pid)), everyMs);
  return () => {
    clearInterval(timer);
    samples.push(rssMb(pid));
    return samples;
  };
}

/** Runs `task` over `items`, `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < items.length; i = next++) await task(items[i]!);
    }),
  );
}

/**
 * Open loop: item i goes at start + i / perSec, whatever the answers before it (`width` in flight
 * at most), until the items run out or `going()` turns false.
 */
async function atRate<T>(
  items: readonly T[],
  perSec: number,
  width: number,
  task: (item: T) => Promise<void>,
  going: () => boolean = () => true,
) {
  const t0 = Date.now();
  let n = 0;
  await inParallel(items, width, async (item) => {
    const due = t0 + (n++ * 1000) / perSec;
    if (!going()) return;
    await sleep(Math.max(0, due - Date.now()));
    if (going()) await task(item);
  });
}

async function installOrgs(emu: string, relay: string, n: number, perMinute: number | null): Promise<Org[]> {
  const orgs = new Array<Org>(n);
  await inParallel([...orgs.keys()], 8, async (i) => {
    orgs[i] = await installOrg(emu, relay, i, perMinute);
  });
  return orgs;
}

/** `n` conversations with one customer each, spread round robin over `orgs`. */
async function conversations(emu: string, orgs: readonly Org[], n: number): Promise<Conv[]> {
  const out = new Array<Conv>(n);
  await inParallel([...out.keys()], 32, async (i) => {
    const org = orgs[i % orgs.length]!;
    const c = await call<{ id: string }>('POST', `${emu}/__emulator/conversations`, {
      orgId: org.id,
      participants: [{ purpose: 'customer' }],
    });
    out[i] = { id: c.id, org };
  });
  return out;
}

interface Conv {
  id: string;
  org: Org;
}

let sent = 0;
/** One signed event to `conv` (`seq` set to a number never used before); resolves with its status. */
async function send(relay: string, conv: Conv): Promise<number> {
  const seq = sent++;
  const res = await signedPost(relay, conv.org.source, { type: 'bench', c: conv.id, seq }, `p${seq}`).catch(
    () => undefined,
  );
  if (!res) return 0;
  await res.arrayBuffer();
  return res.status;
}

/** The emulator's request log, read as it grows. */
function requestLog(emu: string) {
  const all: Recorded[] = [];
  return {
    all,
    async read(): Promise<Recorded[]> {
      // A loop, not push(...batch): a long run's log (250k requests) is more arguments than a call takes.
      for (const r of await call<Recorded[]>('GET', `${emu}/__emulator/requests?from=${all.length}`))
        all.push(r);
      return all;
    },
    patches: () => all.filter((r) => r.method === 'PATCH' && r.status < 300),
  };
}

/** Waits until the emulator has `n` successful PATCHes (or the timeout); returns the log. */
async function untilPatched(log: ReturnType<typeof requestLog>, n: number, notes: string[]) {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  await log.read();
  while (log.patches().length < n && Date.now() < deadline) {
    await sleep(200);
    await log.read();
  }
  const got = log.patches().length;
  if (got < n) notes.push(`${n - got} of ${n} events had no PATCH after ${DRAIN_TIMEOUT_MS / 1000} s`);
}

/** CPU ms this process (the load generator) has used so far. */
const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function deliveryCase(emu: string, emuPid: number, backend: Backend) {
  const notes: string[] = [];
  const relay = await startRelay(emu, backend);
  try {
    const orgs = await installOrgs(emu, relay.url, DELIVERY_ORGS, 6000);
    const convs = await conversations(emu, orgs, EVENTS);
    await call('DELETE', `${emu}/__emulator/requests`);
    const log = requestLog(emu);
    const bytesBefore = await backend.bytes();
    const rss = watchRss(relay.pid);
    const written0 = await backend.written(relay.pid);
    const cpu0 = cpuMs(relay.pid);
    const others0 = cpuMs(emuPid) + selfCpuMs();
    const t0 = Date.now();
    let refused = 0;
    await inParallel(convs, SENDERS, async (c) => {
      if ((await send(relay.url, c)) !== 202) refused++;
    });
    const ingestSeconds = (Date.now() - t0) / 1000;
    const drainFrom = Date.now();
    let trickling = TRICKLE > 0;
    const trickle = trickling
      ? atRate(
          [...Array(Math.ceil(TRICKLE * (DRAIN_TIMEOUT_MS / 1000)))].map((_, i) => i),
          TRICKLE,
          4,
          async (i) => {
            const res = await signedPost(relay.url, orgs[0]!.source, { trickle: i }, `t${i}`).catch(
              () => undefined,
            );
            await res?.arrayBuffer();
          },
          () => trickling,
        )
      : Promise.resolve();
    await untilPatched(log, EVENTS - refused, notes);
    trickling = false;
    await trickle;
    const cpu = cpuMs(relay.pid) - cpu0;
    const others = cpuMs(emuPid) + selfCpuMs() - others0;
    const written = (await backend.written(relay.pid)) - written0;
    const patches = log.patches();
    const lastPatch = Math.max(...patches.map((r) => r.at));
    const delivered = patches.length;
    const drained = patches.filter((r) => r.at >= drainFrom).length;
    if (refused > 0) notes.push(`${refused} events not accepted`);
    return {
      backend: backend.name,
      events: EVENTS,
      ingestPerSec: (EVENTS - refused) / ingestSeconds,
      patchedPerSec: delivered / ((lastPatch - t0) / 1000),
      /** After the last event was accepted: delivery with the loop to itself (but for a trickle). */
      drainPerSec: drained / Math.max(0.001, (lastPatch - drainFrom) / 1000),
      cpuMsPerEvent: cpu / Math.max(1, delivered),
      /** The emulator's and the load generator's CPU per event: what shares the machine with the relay. */
      harnessCpuMsPerEvent: others / Math.max(1, delivered),
      bytesPerEvent: ((await backend.bytes()) - bytesBefore) / Math.max(1, EVENTS - refused),
      writtenKbPerEvent: written / 1024 / Math.max(1, delivered),
      peakRssMb: Math.max(...rss()),
      notes: [...notes, ...(await backend.problems()), ...(await relay.stop())],
    };
  } finally {
    await relay.stop();
  }
}

interface Load {
  rps: number;
  p99: number;
  ok: number;
  bad: number;
}

/** The signing load generator (autocannon in its own process) against one org's source. */
async function signedLoad(relay: string, org: Org): Promise<Load> {
  const r = await spawnJson<{
    requests: { average: number };
    latency: { p99: number };
    '2xx': number;
    non2xx: number;
    errors: number;
  }>([
    '--import',
    'tsx',
    'test/bench/ingest-load.ts',
    relay,
    org.source.id,
    org.source.secret,
    String(SECONDS),
    '64',
  ]);
  return { rps: r.requests.average, p99: r.latency.p99, ok: r['2xx'], bad: r.non2xx + r.errors };
}

async function ingestCase(emu: string, backend: Backend, deliveryRate: number) {
  const notes: string[] = [];
  const relay = await startRelay(emu, backend);
  try {
    const orgs = await installOrgs(emu, relay.url, DELIVERY_ORGS, 6000);
    // A feed at 80 % of what delivery sustains, for as long as the load runs (and a margin).
    const feedRate = Math.max(50, Math.round(deliveryRate * 0.8));
    const convs = await conversations(emu, orgs.slice(1), Math.ceil(feedRate * (SECONDS + 3)));
    const alone = await signedLoad(relay.url, orgs[0]!);
    await call('DELETE', `${emu}/__emulator/requests`);
    const log = requestLog(emu);
    let feeding = true;
    const t0 = Date.now();
    const feed = atRate(
      convs,
      feedRate,
      SENDERS,
      async (c) => {
        await send(relay.url, c);
      },
      () => feeding,
    );
    await sleep(1_000); // delivery is under way before the measured load starts
    const busy = await signedLoad(relay.url, orgs[0]!);
    feeding = false;
    await feed;
    await log.read();
    const patchedDuring = log.patches().length / ((Date.now() - t0) / 1000);
    return {
      backend: backend.name,
      alone,
      whileDelivering: busy,
      feedPerSec: feedRate,
      patchedPerSecDuring: patchedDuring,
      notes: [...notes, ...(await backend.problems()), ...(await relay.stop())],
    };
  } finally {
    await relay.stop();
  }
}

async function orgsCase(emu: string, backend: Backend, singleOrgCpu: number | undefined) {
  const notes: string[] = [];
  const relay = await startRelay(emu, backend);
  try {
    const orgs = await installOrgs(emu, relay.url, FAIR_ORGS, null);
    const convs = await conversations(emu, orgs, FAIR_ORGS * FAIR_EVENTS_PER_ORG);
    await call('DELETE', `${emu}/__emulator/requests`);
    const log = requestLog(emu);
    const rss = watchRss(relay.pid);
    const cpu0 = cpuMs(relay.pid);
    const t0 = Date.now();
    await inParallel(convs, SENDERS, async (c) => {
      await send(relay.url, c);
    });
    // Until every org's window is over (or everything is delivered).
    const deadline = t0 + FAIR_WINDOW_MS + 60_000;
    for (;;) {
      await log.read();
      if (log.patches().length >= convs.length || Date.now() > deadline) break;
      const firsts = firstCalls(log.all);
      if (firsts.size === orgs.length && Date.now() > Math.max(...firsts.values()) + FAIR_WINDOW_MS) break;
      await sleep(500);
    }
    const cpu = cpuMs(relay.pid) - cpu0;
    const delivered = log.patches().length;
    // Each org's busiest 60 s at the emulator (Genesys counts its limit per minute): a full budget
    // is 300, and no minute may hold more.
    const times = new Map<string, number[]>();
    for (const r of log.all) {
      if (!r.orgId || !r.path.startsWith('/api/v2/conversations')) continue;
      const list = times.get(r.orgId) ?? [];
      list.push(r.at);
      times.set(r.orgId, list);
    }
    const byOrg = new Map([...times].map(([org, at]) => [org, busiestMinute(at)]));
    const counts = orgs.map((o) => byOrg.get(o.id) ?? 0).sort((a, b) => a - b);
    const limited = log.all.filter((r) => r.status === 429).length;
    if (limited > 0) notes.push(`${limited} calls answered 429`);
    const cpuPerEvent = cpu / Math.max(1, delivered);
    return {
      backend: backend.name,
      orgs: FAIR_ORGS,
      windowS: FAIR_WINDOW_MS / 1000,
      budget: DEFAULT_BUDGET,
      callsMin: counts[0] ?? 0,
      callsMedian: counts[Math.floor(counts.length / 2)] ?? 0,
      callsMax: counts[counts.length - 1] ?? 0,
      /** Orgs that got at least 95 % of a full budget in their window. */
      fullBudgetOrgs: counts.filter((n) => n >= DEFAULT_BUDGET * 0.95).length,
      cpuMsPerEvent: cpuPerEvent,
      cpuVsDelivery: singleOrgCpu ? cpuPerEvent / singleOrgCpu : null,
      peakRssMb: Math.max(...rss()),
      notes: [...notes, ...(await backend.problems()), ...(await relay.stop())],
    };
  } finally {
    await relay.stop();
  }
}

async function memoryCase(emu: string, backend: Backend) {
  const notes: string[] = [];
  const relay = await startRelay(emu, backend);
  try {
    const orgs = await installOrgs(emu, relay.url, DELIVERY_ORGS, 6000);
    const convs = await conversations(emu, orgs, Math.ceil(MEMORY_RATE * MEMORY_S));
    await call('DELETE', `${emu}/__emulator/requests`);
    const rss = watchRss(relay.pid, 1000);
    let accepted = 0;
    const t0 = Date.now();
    await atRate(convs, MEMORY_RATE, 2 * SENDERS, async (c) => {
      if ((await send(relay.url, c)) === 202) accepted++;
    });
    const seconds = (Date.now() - t0) / 1000;
    const samples = rss();
    const log = requestLog(emu);
    await log.read();
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const q = Math.max(1, Math.floor(samples.length / 4));
    if (accepted < convs.length)
      notes.push(`${convs.length - accepted} of ${convs.length} events not accepted`);
    return {
      backend: backend.name,
      seconds,
      acceptedPerSec: accepted / seconds,
      patchedPerSec: log.patches().length / seconds,
      peakRssMb: Math.max(...samples),
      /** Mean RSS over the second quarter of the run and over the last one (the first is warm-up). */
      rssSecondQuarterMb: mean(samples.slice(q, 2 * q)),
      rssLastQuarterMb: mean(samples.slice(-q)),
      notes: [...notes, ...(await backend.problems()), ...(await relay.stop())],
    };
  } finally {
    await relay.stop();
  }
}

/** The most of `times` (ms, in arrival order) that fall within any 60 s. */
function busiestMinute(times: readonly number[]): number {
  const at = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let lo = 0, hi = 0; hi < at.length; hi++) {
    while (at[hi]! - at[lo]! >= 60_000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** When each org's first Genesys API call arrived. */
function firstCalls(requests: readonly Recorded[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of requests) {
    if (r.orgId && r.path.startsWith('/api/v2/conversations') && !out.has(r.orgId)) out.set(r.orgId, r.at);
  }
  return out;
}

// The relay runs built, as `npm start` runs it (tsx's loader adds tens of MB and start-up CPU).
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const { proc: emuProc, url: emu } = await startEmulator(LATENCY_MS);
const pg = BACKENDS.includes('postgres') ? await startPostgres() : undefined;
const adminUrl = pg?.url.replace(/\/relay$/, '/postgres');
const results: Record<string, unknown>[] = [];
let n = 0;
const open = async (name: string): Promise<Backend> =>
  name === 'postgres' ? postgresBackend(adminUrl!, `perf${n++}`) : sqliteBackend();
try {
  for (const name of BACKENDS) {
    const row: Record<string, unknown> = { backend: name };
    const run = async <T>(what: string, fn: (b: Backend) => Promise<T>) => {
      if (!CASES.includes(what)) return undefined;
      const backend = await open(name);
      try {
        const r = await fn(backend);
        row[what] = r;
        return r;
      } finally {
        await backend.close();
      }
    };
    const d = await run('delivery', (b) => deliveryCase(emu, emuProc.child.pid!, b));
    await run('ingest', (b) => ingestCase(emu, b, d?.patchedPerSec ?? DELIVERY_RATE));
    await run('orgs', (b) => orgsCase(emu, b, d?.cpuMsPerEvent));
    await run('memory', (b) => memoryCase(emu, b));
    results.push(row);
  }
} finally {
  await Promise.all([...procs].map((p) => stop(p)));
  await pg?.close();
}
const emuNotes = emuProc.problems.size > 0 ? [`emulator logged: ${summary(emuProc.problems)}`] : [];
process.stdout.write(`${JSON.stringify({ seconds: SECONDS, latencyMs: LATENCY_MS, results, emuNotes })}\n`);
process.exit(0);
