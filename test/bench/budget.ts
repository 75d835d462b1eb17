/**
 * The shared request budget on PostgreSQL: takes/s and the latency of one take (one upsert on the
 * org's row) with 1 and 3 instances taking from ONE org at once, each instance a store on a pool
 * of its own, as separate processes would be; then 3 instances with 16 takes in flight each (the
 * runner's default concurrency). All on one org's row: the worst case, every take queues on the
 * same row lock. The budget is set high enough that every take succeeds (a refused take costs the
 * same statement). BENCH_BUDGET_SECONDS (default 3) per case. Prints one JSON object.
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

async function measure(instances: number, inFlight: number, orgId: string): Promise<Case> {
  const stores = Array.from({ length: instances }, () => new PgBudgetStore(open()));
  await stores[0]!.take(orgId, 1e9, Date.now()); // the row exists: every case measures the update path
  const latencies: number[] = [];
  const until = performance.now() + SECONDS * 1000;
  const loop = async (s: PgBudgetStore) => {
    while (performance.now() < until) {
      const t = performance.now();
      const r = await s.take(orgId, 1e9, Date.now());
      latencies.push(performance.now() - t);
      if (r !== undefined) throw new Error('a take was refused: the bench budget is too small');
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
