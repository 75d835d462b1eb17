/**
 * Scale-out, end to end: events/s through real server processes (src/main.ts) on SQLite (one
 * instance) and on PostgreSQL with one, two and three instances, the Genesys emulator in its own
 * process (20 ms per call, no rate limit) and the load generator in this one. Every case gets a
 * fresh database, 4 installed orgs whose budgets are lifted to 6,000/min, 200 conversations and
 * BENCH_SCALEOUT_EVENTS (default 2,000) signed events from 32 senders, round robin over the
 * instances; event i goes to conversation i % 200 and sets `seq = i`. An event is done when the
 * audit has its patch.applied / skipped / failed row. Prints one JSON line (for run.ts) and asserts
 * nothing; what looks wrong (rejected events, events without an outcome, error log lines, values
 * going backwards) is reported in `notes`. Runs alone too: `npx tsx test/bench/scaleout.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { sign } from '../../src/ingest/standard-webhooks.js';
import { createDatabase, startPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EVENTS = Number(process.env.BENCH_SCALEOUT_EVENTS ?? 2_000);
const SENDERS = 32;
const ORGS = 4;
/** 200 by default (lanes fold); BENCH_SCALEOUT_CONVERSATIONS=3000 with 3,000 events: all distinct. */
const CONVERSATIONS = Number(process.env.BENCH_SCALEOUT_CONVERSATIONS ?? 200);
/** Linux reports process CPU time in clock ticks of 1/100 s (`getconf CLK_TCK`). */
const TICK_MS = 10;
const EMULATOR_LATENCY_MS = 20;
/** How long a case waits for the last outcome before it gives up and reports what is missing. */
const DRAIN_TIMEOUT_MS = Number(process.env.BENCH_SCALEOUT_DRAIN_MS ?? 90_000);
const PERMISSIONS = [
  'integration:attributeRelay:admin',
  'authorization:role:view',
  'authorization:role:add',
  'authorization:grant:add',
  'oauth:client:add',
  'oauth:client:edit',
  'oauth:client:delete',
];
const ENVIRONMENT = { environment: 'mypurecloud.com' };
const OUTCOMES = "('patch.applied', 'patch.skipped', 'patch.failed')";

interface Proc {
  name: string;
  child: ChildProcess;
  /** warn and error log lines (stdout) and stderr lines, by what they say, with how many. */
  problems: Map<string, number>;
  exited: Promise<unknown>;
}

/** A log line cut to what tells it apart: its level, msg and error message (without the SQL). */
function gist(line: string): string {
  try {
    const l = JSON.parse(line) as { level?: string; msg?: string; err?: { message?: string } };
    const why = l.err?.message?.replace(/\nparams:[\s\S]*/, '').slice(0, 90);
    return `${l.level} "${l.msg}"${why ? `: ${why}` : ''}`;
  } catch {
    return line.slice(0, 200);
  }
}

const summary = (problems: Map<string, number>) =>
  [...problems].map(([what, n]) => `${n}× ${what}`).join(' | ');

const procs = new Set<Proc>();

/** A TypeScript entry in its own node process; resolves once it logs `readyMsg` (its URL). */
async function spawnEntry(name: string, entry: string, env: Record<string, string>, readyMsg: string) {
  const prof =
    process.env.BENCH_CPU_PROF && entry === 'src/main.ts'
      ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
      : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: Proc = { name, child, problems: new Map(), exited: once(child, 'exit') };
  procs.add(proc);
  const keep = (what: string) => proc.problems.set(what, (proc.problems.get(what) ?? 0) + 1);
  let stderrBuf = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderrBuf += d.toString();
    const lines = stderrBuf.split('\n');
    stderrBuf = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) keep(`stderr: ${l.slice(0, 200)}`);
  });
  return new Promise<{ proc: Proc; url: string }>((resolve, reject) => {
    let buf = '';
    let ready = false;
    // Keeps draining stdout (request logs) for the whole run; keeps warn and error lines.
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        if (!l.startsWith('{')) continue;
        if (!ready && l.includes(`"msg":"${readyMsg}"`)) {
          ready = true;
          resolve({ proc, url: (JSON.parse(l) as { url: string }).url });
        } else if (l.includes('"level":"warn"') || l.includes('"level":"error"')) keep(gist(l));
      }
    });
    child.on('exit', (code) => {
      if (!ready) reject(new Error(`${name} exited ${code} before "${readyMsg}": ${summary(proc.problems)}`));
    });
  });
}

/** SIGTERM, then SIGKILL after 5 s. */
async function stop(proc: Proc): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill('SIGTERM');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5_000);
    await proc.exited;
    clearTimeout(timer);
  }
  procs.delete(proc);
}

async function call<T = Record<string, unknown>>(
  method: string,
  url: string,
  body?: unknown,
  bearer?: string,
): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface Org {
  id: string;
  source: { id: string; secret: string };
}

/** An installed org (through `relay`), budget 6,000/min, a standard-webhooks source, `seq ← $.seq`. */
async function installOrg(emu: string, relay: string, n: number): Promise<Org> {
  const control = `${emu}/__emulator`;
  const org = await call<{ id: string }>('POST', `${control}/orgs`, { name: `Bench ${n}` });
  const user = await call<{ id: string }>('POST', `${control}/users`, {
    orgId: org.id,
    name: `Admin ${n}`,
    permissions: PERMISSIONS,
  });
  const { token } = await call<{ token: string }>('POST', `${control}/users/${user.id}/tokens`);
  const grant = await call<{ id: string; secret: string }>('POST', `${control}/clients`, {
    orgId: org.id,
    permissions: ['conversation:communication:view'],
  });
  await call(
    'POST',
    `${relay}/v1/install`,
    { ...ENVIRONMENT, clientId: grant.id, clientSecret: grant.secret },
    token,
  );
  const session = (await call<{ token: string }>('POST', `${relay}/v1/session`, ENVIRONMENT, token)).token;
  await call('PATCH', `${relay}/v1/tenant`, { settings: { requestsPerMinute: 6000 } }, session);
  const source = await call<{ id: string; secret: string }>(
    'POST',
    `${relay}/v1/sources`,
    { name: 'CRM', auth: 'standard-webhooks' },
    session,
  );
  await call(
    'POST',
    `${relay}/v1/rules`,
    {
      name: 'seq',
      when: { path: '$.type', op: 'exists' },
      target: { conversationId: '$.c' },
      set: { seq: '{{ $.seq }}' },
    },
    session,
  );
  return { id: org.id, source };
}

interface Recorded {
  at: number;
  method: string;
  path: string;
  body: string;
  status: number;
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Backend {
  name: 'sqlite' | 'postgres';
  env: Record<string, string>;
  /** Distinct events with an outcome, and how many of those failed. */
  outcomes(): Promise<{ done: number; failed: number; skipped: number }>;
  /** What the database server logged as errors during the case. */
  problems(): Promise<string[]>;
  /** Bytes the relay's tables hold now (SQLite: the pages in use as a reader sees them). */
  bytes(): Promise<number>;
  close(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = tempDir('relay-bench-scaleout');
  const path = `${dir.path}/relay.sqlite`;
  let db: Database.Database | undefined;
  return {
    name: 'sqlite',
    env: { DATABASE_PATH: path },
    async outcomes() {
      db ??= new Database(path, { readonly: true });
      return db
        .prepare(
          `select count(distinct event_id) as done,
             count(distinct case when kind = 'patch.failed' then event_id end) as failed,
             count(distinct case when kind = 'patch.skipped' then event_id end) as skipped
           from audit_log where kind in ${OUTCOMES}`,
        )
        .get() as { done: number; failed: number; skipped: number };
    },
    problems: async () => [],
    async bytes() {
      db ??= new Database(path, { readonly: true });
      const pages = db.pragma('page_count', { simple: true }) as number;
      const free = db.pragma('freelist_count', { simple: true }) as number;
      return (pages - free) * (db.pragma('page_size', { simple: true }) as number);
    },
    async close() {
      if (process.env.BENCH_DBSTAT) {
        db ??= new Database(path, { readonly: true });
        const rows = db
          .prepare('select name, sum(pgsize) as bytes from dbstat group by name order by bytes desc')
          .all();
        process.stderr.write(`${JSON.stringify(rows)}\n`);
      }
      db?.close();
      dir.cleanup();
    },
  };
}

async function postgresBackend(adminUrl: string, name: string): Promise<Backend> {
  await createDatabase(adminUrl, name);
  const url = adminUrl.replace(/\/postgres$/, `/${name}`);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  // startPostgres logs to server.log beside the data folder; only this case's part is read.
  const [{ data_directory: data }] = (await sql`show data_directory`) as unknown as [
    { data_directory: string },
  ];
  const log = join(dirname(data), 'server.log');
  const from = existsSync(log) ? statSync(log).size : 0;
  return {
    name: 'postgres',
    env: { DATABASE_URL: url },
    async outcomes() {
      const [row] = await sql.unsafe(
        `select count(distinct event_id)::int as done,
           count(distinct case when kind = 'patch.failed' then event_id end)::int as failed,
           count(distinct case when kind = 'patch.skipped' then event_id end)::int as skipped
         from audit_log where kind in ${OUTCOMES}`,
      );
      return row as unknown as { done: number; failed: number; skipped: number };
    },
    async problems() {
      if (!existsSync(log)) return [];
      const counts = new Map<string, number>();
      const text = readFileSync(log).subarray(from).toString();
      for (const m of text.matchAll(/(ERROR|FATAL|PANIC):\s+(.*)/g)) {
        const what = `${m[1]}: ${m[2]!.replace(/\(.*?\)=\(.*?\)/g, '(…)=(…)').slice(0, 160)}`;
        counts.set(what, (counts.get(what) ?? 0) + 1);
      }
      return [...counts].map(([what, n]) => `PostgreSQL logged ${n}× ${what}`);
    },
    async bytes() {
      const [row] = await sql`
        select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as n from pg_class c
        join pg_namespace s on s.oid = c.relnamespace where s.nspname = 'public' and c.relkind = 'r'`;
      return Number(row!.n);
    },
    close: () => sql.end(),
  };
}

function totalCpuMs(pids: ReadonlyArray<number | undefined>): number {
  let total = 0;
  for (const pid of pids) total += cpuMs(pid);
  return total;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return 0;
  // Fields 14 and 15 (utime, stime), counted after the command name's closing parenthesis.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

async function runCase(emu: string, backend: Backend, instances: number) {
  const notes: string[] = [];
  const control = `${emu}/__emulator`;
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    RELAY_MASTER_KEY: randomBytes(32).toString('base64url'),
    GENESYS_BASE_URL: emu,
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
          const raw = JSON.stringify({ type: 'bench', c: conv.id, seq: i });
          const id = `e${i}`;
          const ts = Math.floor(Date.now() / 1000);
          sentAt[i] = Date.now();
          const why = await fetch(`${servers[i % instances]!.url}/v1/hooks/${conv.org.source.id}`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'webhook-id': id,
              'webhook-timestamp': String(ts),
              'webhook-signature': sign(conv.org.source.secret, id, ts, raw),
            },
            body: raw,
          }).then(
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

const { proc: emuProc, url: emu } = await spawnEntry(
  'emulator',
  'src/emulator/main.ts',
  { EMULATOR_PORT: '0', EMULATOR_HOST: '127.0.0.1' },
  'genesys emulator listening',
);
await call('PATCH', `${emu}/__emulator/config`, { rateLimitPerMinute: null, latencyMs: EMULATOR_LATENCY_MS });
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
