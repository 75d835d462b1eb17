/**
 * `npm run bench`: throughput and latency of the foundation's hot paths, each server in its own
 * process and the load generator (autocannon) in another, as a deployment would see them.
 * Prints a table and asserts nothing; later issues compare their figures with these ceilings.
 * BENCH_SECONDS (default 10) and BENCH_CONNECTIONS (default 64) tune a run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const autocannonBin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  bad: number;
}

function startTarget(kind: string): Promise<{ child: ChildProcess; info: Record<string, string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/servers.ts', kind], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith('BENCH '));
      if (!line) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume(); // keep draining the app's request logs
      resolve({ child, info: JSON.parse(line.slice(6)) });
    };
    child.stdout?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${kind} exited ${code}`)));
  });
}

function load(name: string, url: string, extra: string[] = []): Promise<Row> {
  const args = [autocannonBin, '--json', '-c', String(connections), '-d', String(seconds), ...extra, url];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('exit', () => {
      try {
        const r = JSON.parse(out) as {
          requests: { average: number };
          latency: { p50: number; p99: number };
          '2xx': number;
          non2xx: number;
          errors: number;
        };
        resolve({
          name,
          rps: r.requests.average,
          p50: r.latency.p50,
          p99: r.latency.p99,
          ok: r['2xx'],
          bad: r.non2xx + r.errors,
        });
      } catch (e) {
        reject(e);
      }
    });
  });
}

async function bench(kind: string, run: (info: Record<string, string>) => Promise<Row>): Promise<Row> {
  const { child, info } = await startTarget(kind);
  try {
    return await run(info);
  } finally {
    child.kill('SIGTERM');
  }
}

const rows: Row[] = [];
rows.push(await bench('bare', (i) => load('bare Hono 202 (POST /)', `${i.url}/`, ['-m', 'POST'])));
rows.push(await bench('app', (i) => load('app GET /healthz', `${i.url}/healthz`)));
rows.push(
  await bench('emulator', (i) =>
    load('emulator PATCH attributes', `${i.url}${i.path}`, [
      '-m',
      'PATCH',
      '-H',
      `authorization=Bearer ${i.token}`,
      '-H',
      'content-type=application/json',
      '-b',
      '{"attributes":{"customer_tier":"gold","last_purchase":"2026-11-24"}}',
    ]),
  ),
);

const pad = (s: string, n: number) => s.padEnd(n);
const num = (n: number, d = 0) => n.toFixed(d).padStart(10);
process.stdout.write(
  `\nattribute-relay bench — ${connections} connections, ${seconds} s each, node ${process.version}\n\n` +
    `${pad('target', 30)}${'req/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'2xx'.padStart(10)}${'other'.padStart(10)}\n` +
    rows
      .map((r) => `${pad(r.name, 30)}${num(r.rps)}${num(r.p50, 1)}${num(r.p99, 1)}${num(r.ok)}${num(r.bad)}`)
      .join('\n') +
    '\n',
);
