/**
 * The shared request budget on PostgreSQL: takes/s and the latency of one take (one locked call on the
 * org's row) with 1 and 3 instances taking from ONE org at once, each instance a store on a pool
 * of its own, as separate processes would be; then 3 instances with 16 takes in flight each (the
 * runner's default concurrency). All on one org's row: the worst case, every take queues on the
 * same row lock. The org has the highest budget a tenant may set (6,000/min) and the takes' clock
 * moves 10 ms per take, so the row always holds a full minute of takes: the largest array a take
 * rewrites. BENCH_BUDGET_SECONDS (default 3) per case. Prints one JSON object.
 */
import { openPgDatabase, type PgDatabase } from '../../src/db/pg/client.js';
import { PgBudgetStore } from '../../src/delivery/budget-pg-store.js';
import { startPostgres } from '../helpers/postgres.js';

const SECONDS = Number(process.env.BENCH_BUDGET_SECONDS ?? 3);
const server = await startPostgres();
const pools: PgDatabase[] = [];
const open = () => {
  const database = openPgDatabase(server.url, { max: 16 });
  pools.push(database);
  return database;
};
await open().migrate();

interface Case {
  instances: number;
  inFlight: number;
  takesPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

const PER_MINUTE = 6_000;

async function measure(instances: number, inFlight: number, orgId: string): Promise<Case> {
  const stores = Array.from({ length: instances }, () => new PgBudgetStore(open()));
  // The takes' clock: 10 ms a take is exactly 6,000 a minute.
  let now = Date.now();
  await stores[0]!.take(orgId, PER_MINUTE, now); // the row exists: every case measures the update path
  const latencies: number[] = [];
  const until = performance.now() + SECONDS * 1000;
  const loop = async (s: PgBudgetStore) => {
    while (performance.now() < until) {
      const t = performance.now();
      now += 10;
      await s.take(orgId, PER_MINUTE, now);
      latencies.push(performance.now() - t);
    }
  };
  const t0 = performance.now();
  await Promise.all(stores.flatMap((s) => Array.from({ length: inFlight }, () => loop(s))));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { instances, inFlight, takesPerSec: latencies.length / elapsed, p50Ms: at(0.5), p99Ms: at(0.99) };
}

try {
  const cases = [
    await measure(1, 1, 'org-1'),
    await measure(3, 1, 'org-3'),
    await measure(3, 16, 'org-3x16'),
  ];
  process.stdout.write(JSON.stringify({ seconds: SECONDS, cases }));
} finally {
  await Promise.all(pools.map((p) => p.close()));
  await server.close();
}
