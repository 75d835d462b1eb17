/**
 * Scale-out, end to end: events/s through real server processes (src/main.ts) on SQLite (one
 * instance) and on PostgreSQL with one, two and three instances, the Genesys emulator in its own
 * process (20 ms per call, no rate limit) and the load generator in this one. Every case gets a
 * fresh database, 4 installed orgs whose budgets are lifted to 6,000/min, 200 conversations and
 * BENCH_SCALEOUT_EVENTS (default 2,000) signed events from 32 senders, round robin over the
 * instances; event i goes to conversation i % 200 and sets `seq = i`. An event is done when the
 * audit has its patch.applied / skipped / failed row. Prints one JSON line (for run.ts) and asserts
 * nothing; what looks wrong (rejected events, events without an outcome, error log lines, values
 * going backwards) is reported in `notes`. Runs alone too: `npx tsx test/bench/scaleout.ts`
 * (BENCH_SCALEOUT_CASES=0,1: only those cases, 0 SQLite, 1-3 PostgreSQL with 1-3 instances).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { startPostgres } from '../helpers/postgres.js';
import { signedPost } from '../helpers/signed.js';
import {
  type Backend,
  call,
  installOrg,
  type Org,
  pct,
  postgresBackend,
  procs,
  type Recorded,
  sleep,
  spawnEntry,
  sqliteBackend,
  startEmulator,
  stop,
  summary,
  totalCpuMs,
} from './harness.js';

const EVENTS = Number(process.env.BENCH_SCALEOUT_EVENTS ?? 2_000);
const SENDERS = 32;
const ORGS = 4;
/** 200 by default (lanes fold); BENCH_SCALEOUT_CONVERSATIONS=3000 with 3,000 events: all distinct. */
const CONVERSATIONS = Number(process.env.BENCH_SCALEOUT_CONVERSATIONS ?? 200);
const EMULATOR_LATENCY_MS = 20;
/** How long a case waits for the last outcome before it gives up and reports what is missing. */
const DRAIN_TIMEOUT_MS = Number(process.env.BENCH_SCALEOUT_DRAIN_MS ?? 90_000);

async function runCase(emu: string, backend: Backend, instances: number) {
  const notes: string[] = [];
  const control = `${emu}/__emulator`;
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    RELAY_MASTER_KEY: randomBytes(32).toString('base64url'),
    GENESYS_BASE_URL: emu,
    ...(process.env.PG_COUNT ? { PG_COUNT: process.env.PG_COUNT } : {}),
    ...backend.env,
  };
  // Started together: on PostgreSQL they race to migrate the empty database, and take turns.
  const servers = await Promise.all(
    Array.from({ length: instances }, (_, k) =>
      spawnEntry(`${backend.name}#${k + 1}`, 'src/main.ts', env, 'listening'),
    ),
  );
  try {
    const orgs: Org[] = [];
    for (let n = 0; n < ORGS; n++) orgs.push(await installOrg(emu, servers[n % instances]!.url, n));
    const convs: Array<{ id: string; org: Org }> = [];
    for (let j = 0; j < CONVERSATIONS; j++) {
      const org = orgs[j % ORGS]!;
      const c = await call<{ id: string }>('POST', `${control}/conversations`, {
        orgId: org.id,
        participants: [{ purpose: 'customer' }],
      });
      convs.push({ id: c.id, org });
    }
    await call('DELETE', `${control}/requests`);
    const pids = servers.map((srv) => srv.proc.child.pid);
    const cpuBefore = totalCpuMs(pids);
    const bytesBefore = await backend.bytes();

    const sentAt = new Array<number>(EVENTS);
    const acceptedAt = new Array<number>(EVENTS).fill(Number.POSITIVE_INFINITY);
    const rejected = new Map<string, number>();
    let accepted = 0;
    let lastAccepted = 0;
    let next = 0;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        for (let i = next++; i < EVENTS; i = next++) {
          const conv = convs[i % CONVERSATIONS]!;
          sentAt[i] = Date.now();
          const why = await signedPost(
            servers[i % instances]!.url,
            conv.org.source,
            { type: 'bench', c: conv.id, seq: i },
            `e${i}`,
          ).then(
            async (res) => {
              const text = await res.text();
              if (res.status === 202) return undefined;
              const code = text.match(/"code":"([^"]*)"/)?.[1];
              return `${res.status}${code ? ` ${code}` : ` ${text.slice(0, 100)}`}`;
            },
            (err: unknown) => `network: ${String(err)}`,
          );
          if (why === undefined) {
            accepted++;
            lastAccepted = Date.now();
            acceptedAt[i] = lastAccepted;
          } else rejected.set(why, (rejected.get(why) ?? 0) + 1);
        }
      }),
    );
    const ingestSeconds = (lastAccepted - t0) / 1000;

    let o = await backend.outcomes();
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (o.done < accepted && Date.now() < deadline) {
      await sleep(100);
      o = await backend.outcomes();
    }
    const endToEndSeconds = (Date.now() - t0) / 1000;
    const cpuPerEventMs = (totalCpuMs(pids) - cpuBefore) / Math.max(1, o.done);
    const bytesPerEvent = ((await backend.bytes()) - bytesBefore) / Math.max(1, accepted);
    if (o.done < accepted) {
      notes.push(
        `${accepted - o.done} of ${accepted} accepted events had no outcome after ${DRAIN_TIMEOUT_MS / 1000} s`,
      );
    }
    for (const [why, n] of rejected) notes.push(`${n} events not accepted: ${why}`);
    notes.push(...(await backend.problems()));
    if (o.failed > 0) notes.push(`${o.failed} events ended patch.failed`);

    // What Genesys saw: PATCHes per event, their latency from the event's send, and order. Events
    // in flight together have no order; b is after a only when b was sent after a's 202.
    const requests = await call<Recorded[]>('GET', `${control}/requests`);
    const patches = requests.filter((r) => r.method === 'PATCH');
    const ok = patches.filter((r) => r.status >= 200 && r.status < 300);
    const latencies: number[] = [];
    const newestSent = new Map<string, number>();
    let backwards = 0;
    for (const r of ok) {
      const seq = Number((JSON.parse(r.body) as { attributes: Record<string, string> }).attributes.seq);
      const sent = sentAt[seq];
      if (sent === undefined) continue;
      latencies.push(r.at - sent);
      if (acceptedAt[seq]! < (newestSent.get(r.path) ?? 0)) backwards++;
      newestSent.set(r.path, Math.max(sent, newestSent.get(r.path) ?? 0));
    }
    if (backwards > 0) {
      notes.push(`${backwards} PATCHes carried an event older than one already PATCHed to the participant`);
    }
    const statuses = new Map<number, number>();
    for (const r of patches) {
      if (r.status < 200 || r.status > 299) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    for (const [s, n] of statuses) notes.push(`${n} PATCHes answered ${s}`);
    // Each participant ends on its conversation's last event (or one in flight with it).
    let stale = 0;
    for (let j = 0; j < Math.min(CONVERSATIONS, EVENTS); j++) {
      const c = await call<{ participants: Array<{ attributes: Record<string, string> }> }>(
        'GET',
        `${control}/conversations/${convs[j]!.id}`,
      );
      const held = Number(c.participants[0]?.attributes.seq ?? -1);
      let newest = 0;
      for (let k = j; k < EVENTS; k += CONVERSATIONS) if (k !== held) newest = Math.max(newest, sentAt[k]!);
      if (held < 0 || newest > acceptedAt[held]!) stale++;
    }
    if (stale > 0) notes.push(`${stale} participants do not hold the seq of their last event`);

    return {
      backend: backend.name,
      instances,
      accepted,
      ingestPerSec: accepted / ingestSeconds,
      endToEndPerSec: o.done / endToEndSeconds,
      ingestSeconds,
      endToEndSeconds,
      patchesPerEvent: patches.length / EVENTS,
      /** The relay processes' CPU per event with an outcome (not PostgreSQL's, not the emulator's). */
      cpuPerEventMs,
      /** Growth of the relay's tables per accepted event (before checkpoints and retention). */
      bytesPerEvent,
      patches: patches.length,
      tokenRequests: requests.filter((r) => r.path === '/oauth/token').length,
      latencyP50: pct(latencies, 50),
      latencyP99: pct(latencies, 99),
      outcomes: o.done,
      skipped: o.skipped,
      failed: o.failed,
      // Other work on the machine skews every figure: the 1-minute load average as the case ends.
      loadAverage: loadavg()[0],
      notes,
    };
  } finally {
    await Promise.all(servers.map((s) => stop(s.proc)));
    for (const s of servers) {
      if (s.proc.problems.size > 0) notes.push(`${s.proc.name} logged: ${summary(s.proc.problems)}`);
    }
  }
}

const { proc: emuProc, url: emu } = await startEmulator(EMULATOR_LATENCY_MS);
const pg = await startPostgres();
const adminUrl = pg.url.replace(/\/relay$/, '/postgres');
const cases = [];
try {
  const plan: Array<[() => Promise<Backend>, number]> = [
    [async () => sqliteBackend(), 1],
    [() => postgresBackend(adminUrl, 'scale1'), 1],
    [() => postgresBackend(adminUrl, 'scale2'), 2],
    [() => postgresBackend(adminUrl, 'scale3'), 3],
  ];
  const only = process.env.BENCH_SCALEOUT_CASES?.split(',');
  for (const [k, [open, instances]] of plan.entries()) {
    if (only && !only.includes(String(k))) continue;
    const backend = await open();
    try {
      cases.push(await runCase(emu, backend, instances));
    } finally {
      await backend.close();
    }
  }
} finally {
  await Promise.all([...procs].map((p) => stop(p)));
  await pg.close();
}
if (emuProc.problems.size > 0) cases[0]?.notes.push(`emulator logged: ${summary(emuProc.problems)}`);
process.stdout.write(
  `${JSON.stringify({ events: EVENTS, senders: SENDERS, orgs: ORGS, conversations: CONVERSATIONS, emulatorLatencyMs: EMULATOR_LATENCY_MS, cases })}\n`,
);
process.exit(0);
