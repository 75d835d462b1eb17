/**
 * What the end-to-end benches share (scaleout.ts, perf.ts): server and emulator processes, orgs
 * installed through the real API, each backend's bytes and outcomes, and a process's CPU time.
 * BENCH_CPU_PROF=<folder>: every relay process writes a V8 CPU profile there when it stops;
 * BENCH_NODE_FLAGS: more node flags for the built relay (dist/main.js); BENCH_DBSTAT=1: a SQLite
 * case prints its bytes per table and index (dbstat) on stderr as it closes; BENCH_KEEP_DB=<file>:
 * a SQLite case copies its database there as it closes (to look at the rows a run left);
 * BENCH_RELAY_ENV="K=V K=V": more environment for the relays (DELIVERY_CONCURRENCY=256, LOG_LEVEL=debug);
 * BENCH_TXSTAT=<folder>: every relay writes there, as it exits, its SQLite transactions by call site
 * with their CPU and batch sizes (test/bench/txstat.cjs); BENCH_PG_SOCKET=1: the relays reach
 * PostgreSQL over its Unix socket instead of TCP on 127.0.0.1.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { createDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { INSTALLER_PERMISSIONS } from '../helpers/world.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Linux reports process CPU time in clock ticks of 1/100 s (`getconf CLK_TCK`). */
const TICK_MS = 10;

export const ENVIRONMENT = { environment: 'mypurecloud.com' };
export const OUTCOMES = "('patch.applied', 'patch.skipped', 'patch.failed')";

export interface Proc {
  name: string;
  child: ChildProcess;
  /** warn and error log lines (stdout) and stderr lines, by what they say, with how many. */
  problems: Map<string, number>;
  exited: Promise<unknown>;
}

/** A log line cut to what tells it apart: its level, msg and error message (without the SQL). */
export function gist(line: string): string {
  try {
    const l = JSON.parse(line) as { level?: string; msg?: string; err?: { message?: string } };
    const why = l.err?.message?.replace(/\nparams:[\s\S]*/, '').slice(0, 90);
    return `${l.level} "${l.msg}"${why ? `: ${why}` : ''}`;
  } catch {
    return line.slice(0, 200);
  }
}

export const summary = (problems: Map<string, number>) =>
  [...problems].map(([what, n]) => `${n}× ${what}`).join(' | ');

export const procs = new Set<Proc>();

/** Runs node with `args` in its own process and parses the JSON it prints. */
export function spawnJson<T>(args: string[]): Promise<T> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out) as T);
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** BENCH_RELAY_ENV="K=V K=V": more settings for the relay processes. */
function relayEnv(entry: string): Record<string, string> {
  if (!process.env.BENCH_RELAY_ENV || !(entry === 'src/main.ts' || entry === 'dist/main.js')) return {};
  return Object.fromEntries(process.env.BENCH_RELAY_ENV.split(' ').map((kv) => kv.split('=', 2)));
}

/** An entry (TypeScript, or built JavaScript) in its own node process; resolves once it logs `readyMsg` (its URL). */
export async function spawnEntry(name: string, entry: string, env: Record<string, string>, readyMsg: string) {
  const prof =
    process.env.BENCH_CPU_PROF && (entry === 'src/main.ts' || entry === 'dist/main.js')
      ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
      : [];
  // Built JavaScript runs as `npm start` runs it; TypeScript through tsx.
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const extra =
    process.env.BENCH_NODE_FLAGS && entry === 'dist/main.js' ? process.env.BENCH_NODE_FLAGS.split(' ') : [];
  const txstat = process.env.BENCH_TXSTAT && entry === 'dist/main.js' ? process.env.BENCH_TXSTAT : undefined;
  const counted = txstat ? ['--require', join(ROOT, 'test/bench/txstat.cjs')] : [];
  const child = spawn(process.execPath, [...prof, ...extra, ...counted, ...loader, entry], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      ...env,
      ...relayEnv(entry),
      ...(txstat ? { BENCH_TXSTAT: txstat } : {}),
    },
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
export async function stop(proc: Proc): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill('SIGTERM');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5_000);
    await proc.exited;
    clearTimeout(timer);
  }
  procs.delete(proc);
}

export async function call<T = Record<string, unknown>>(
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

/** The Genesys emulator in its own process, with no rate limit and `latencyMs` a call. */
export async function startEmulator(latencyMs: number): Promise<{ proc: Proc; url: string }> {
  const started = await spawnEntry(
    'emulator',
    'src/emulator/main.ts',
    { EMULATOR_PORT: '0', EMULATOR_HOST: '127.0.0.1' },
    'genesys emulator listening',
  );
  await call('PATCH', `${started.url}/__emulator/config`, { rateLimitPerMinute: null, latencyMs });
  return started;
}

export interface Org {
  id: string;
  source: { id: string; secret: string };
}

/**
 * An installed org (through `relay`), its budget `requestsPerMinute` (null: left at the default
 * 300), a standard-webhooks source, `seq ← $.seq`.
 */
export async function installOrg(
  emu: string,
  relay: string,
  n: number,
  requestsPerMinute: number | null = 6000,
): Promise<Org> {
  const control = `${emu}/__emulator`;
  const org = await call<{ id: string }>('POST', `${control}/orgs`, { name: `Bench ${n}` });
  const user = await call<{ id: string }>('POST', `${control}/users`, {
    orgId: org.id,
    name: `Admin ${n}`,
    permissions: INSTALLER_PERMISSIONS,
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
  if (requestsPerMinute !== null)
    await call('PATCH', `${relay}/v1/tenant`, { settings: { requestsPerMinute } }, session);
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

export interface Recorded {
  at: number;
  method: string;
  path: string;
  body: string;
  status: number;
  /** The org of the token that made the call (API calls). */
  orgId?: string;
}

export const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Backend {
  name: 'sqlite' | 'postgres';
  env: Record<string, string>;
  /** Distinct events with an outcome, and how many of those failed. */
  outcomes(): Promise<{ done: number; failed: number; skipped: number }>;
  /** What the database server logged as errors during the case. */
  problems(): Promise<string[]>;
  /** Bytes the relay's tables hold now (SQLite: the pages in use as a reader sees them). */
  bytes(): Promise<number>;
  /**
   * Bytes written so far for the relay's storage: on SQLite every write() of the relay process
   * (WAL frames, the checkpoint's copies back into the file, and its few socket bytes); on
   * PostgreSQL the WAL the server generated. What a delivered event costs in I/O, beside what it
   * keeps (`bytes`).
   */
  written(relayPid: number | undefined): Promise<number>;
  close(): Promise<void>;
}

export function sqliteBackend(): Backend {
  const dir = tempDir('relay-bench-scaleout');
  const path = `${dir.path}/relay.sqlite`;
  let db: Database.Database | undefined;
  return {
    name: 'sqlite',
    env: { DATABASE_PATH: path },
    // Read-only beside the relay: audit rows it has staged and not yet moved count too.
    async outcomes() {
      db ??= new Database(path, { readonly: true });
      return db
        .prepare(
          `select count(distinct event_id) as done,
             count(distinct case when kind = 'patch.failed' then event_id end) as failed,
             count(distinct case when kind = 'patch.skipped' then event_id end) as skipped
           from (select event_id, kind from audit_log union all select event_id, kind from audit_staged)
           where kind in ${OUTCOMES}`,
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
    async written(relayPid) {
      if (relayPid === undefined || !existsSync(`/proc/${relayPid}/io`)) return 0;
      return Number(readFileSync(`/proc/${relayPid}/io`, 'utf8').match(/^wchar: (\d+)/m)?.[1] ?? 0);
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
      if (process.env.BENCH_KEEP_DB) copyFileSync(path, process.env.BENCH_KEEP_DB);
      dir.cleanup();
    },
  };
}

/** `url`'s database, user and port over the server's Unix socket (libpq's form), for BENCH_PG_SOCKET. */
async function socketUrl(sql: postgres.Sql, url: string): Promise<string> {
  const [{ unix_socket_directories: dirs }] = (await sql`show unix_socket_directories`) as unknown as [
    { unix_socket_directories: string },
  ];
  const { username, port, pathname } = new URL(url);
  const host = dirs.split(',')[0]!.trim();
  return `postgresql://${pathname}?host=${encodeURIComponent(host)}&port=${port}&user=${username}`;
}

export async function postgresBackend(adminUrl: string, name: string): Promise<Backend> {
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
    env: { DATABASE_URL: process.env.BENCH_PG_SOCKET ? await socketUrl(sql, url) : url },
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
    async written() {
      const [row] = await sql`select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint as n`;
      return Number(row!.n);
    },
    close: () => sql.end(),
  };
}

export function totalCpuMs(pids: ReadonlyArray<number | undefined>): number {
  let total = 0;
  for (const pid of pids) total += cpuMs(pid);
  return total;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux). */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return 0;
  // Fields 14 and 15 (utime, stime), counted after the command name's closing parenthesis.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
