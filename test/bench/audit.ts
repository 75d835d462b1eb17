/**
 * The audit log at size: BENCH_AUDIT_ROWS rows (default 1,000,000) over 100 orgs, then
 * - the export's rate for one org, NDJSON and CSV: the first export (pages the build left cold)
 *   and the median of three after it, with the process's peak RSS while they stream;
 * - GET /v1/audit p95 for each filter, with a value that is common and one no row has;
 * - a retention run that cuts a tenth of one org: rows/s and the longest single batch (how long
 *   ingest could wait on the write lock);
 * - verify's rate over one org's chain.
 * Prints one JSON object (test/bench/run.ts makes the table).
 */
import { appendAudit, preparedAuditAppend } from '../../src/audit/store.js';
import { Pruner } from '../../src/retention/pruner.js';
import { type RetentionStore, sqliteRetentionStore } from '../../src/retention/store.js';
import { install, seedOrg, session, startWorld } from '../helpers/world.js';

/** 1,000,000 by default (about 40 s to build); BENCH_AUDIT_ROWS=5000000 for the size. */
const ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? 1_000_000);
const ORGS = 100;
const DAY = 86_400_000;

const world = await startWorld();
const ours = seedOrg(world, 'Acme');
const sqlite = world.app.database.sqlite;
const append = preparedAuditAppend(sqlite);
const orgIds = [ours.orgId, ...Array.from({ length: ORGS - 1 }, () => crypto.randomUUID())];

// Rows spread over 100 days up to now, oldest first (ids carry time), in batches of 10,000.
const start = world.clock.now() - 100 * DAY;
const step = (100 * DAY) / ROWS;
let t0 = performance.now();
const kinds = ['event.received', 'event.matched', 'patch.applied', 'patch.skipped'] as const;
for (let i = 0; i < ROWS; ) {
  sqlite.transaction(() => {
    for (const end = Math.min(ROWS, i + 10_000); i < end; i++) {
      append({
        orgId: orgIds[i % ORGS]!,
        at: Math.floor(start + i * step),
        // Each org gets every kind and outcome (i % 4 alone would give an org one of each).
        kind: kinds[Math.floor(i / ORGS) % 4]!,
        actor: { type: 'system', job: 'job_bench' },
        sourceId: `src_${i % 7}`,
        eventId: `evt_bench${i}`,
        ruleIds: [`rule_${i % 13}`],
        conversationId: `conv-${i % 5000}`,
        participantId: 'p-1',
        outcome: Math.floor(i / ORGS) % 4 === 3 ? 'no_change' : 'applied',
        detail: {
          attributes: { tier: 'gold', n: String(i) },
          status: 202,
          correlationId: crypto.randomUUID(),
        },
      });
    }
  })();
}
const seedRowsPerSec = ROWS / ((performance.now() - t0) / 1000);
// What the running server does at start and every 15 minutes: refresh the planner's statistics.
world.app.database.optimize();
// Installed after the rows exist: ids only ever grow, and retention reads age from them.
await install(world, ours);
const token = await session(world, ours.viewer);
const bytesPerRow =
  ((sqlite.pragma('page_count', { simple: true }) as number) *
    (sqlite.pragma('page_size', { simple: true }) as number)) /
  ROWS;

const headers = { authorization: `Bearer ${token}` };
/** One export of our org: rows/s, and the process's peak RSS while it streamed (server and reader). */
async function exportOnce(format: string) {
  let peak = process.memoryUsage.rss();
  const t = performance.now();
  const res = await fetch(`${world.app.url}/v1/audit/export?format=${format}`, { headers });
  const reader = res.body!.getReader();
  let lines = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    // indexOf, not a byte loop: the reader must not be the bottleneck it measures.
    for (let at = value.indexOf(10); at !== -1; at = value.indexOf(10, at + 1)) lines++;
    peak = Math.max(peak, process.memoryUsage.rss());
  }
  return { rowsPerSec: lines / ((performance.now() - t) / 1000), rows: lines, peak };
}
/** The median of three exports: one export of 10,000 rows varied from 90k to 160k rows/s. */
async function exportRate(format: string) {
  const runs = [await exportOnce(format), await exportOnce(format), await exportOnce(format)];
  const rates = runs.map((r) => r.rowsPerSec).sort((a, b) => a - b);
  return { rowsPerSec: rates[1]!, rows: runs[0]!.rows, peak: Math.max(...runs.map((r) => r.peak)) };
}
const rssBefore = process.memoryUsage.rss();
const firstExport = await exportOnce('ndjson');
const ndjson = await exportRate('ndjson');
const csv = await exportRate('csv');
const exportPeakRss = Math.max(firstExport.peak, ndjson.peak, csv.peak);

const from = new Date(world.clock.now() - 30 * DAY).toISOString();
// A value no row has walks the most: a filter without an index of its own reads all the org's rows.
const filters: Record<string, string> = {
  none: '',
  kind: 'kind=patch.applied',
  outcome: 'outcome=no_change',
  'outcome, no match': 'outcome=failed',
  conversationId: 'conversationId=conv-100',
  ruleId: 'ruleId=rule_3',
  'ruleId, no match': 'ruleId=rule_none',
  sourceId: 'sourceId=src_2',
  'sourceId, no match': 'sourceId=src_none',
  eventId: 'eventId=evt_none',
  range: `from=${from}&to=${new Date(world.clock.now() - 29 * DAY).toISOString()}`,
};
const p95: Record<string, number> = {};
for (const [name, query] of Object.entries(filters)) {
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    await (await fetch(`${world.app.url}/v1/audit?limit=100&${query}`, { headers })).arrayBuffer();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  p95[name] = times[Math.floor(times.length * 0.95)]!;
}

t0 = performance.now();
const verify = await world.app.deps.auditSeal.verify(ours.orgId);
const verifyRowsPerSec = verify.rows / ((performance.now() - t0) / 1000);

// Retention: our org keeps 90 days of 100, so a tenth of its rows go. The longest batch is the
// longest time the pruner holds the write lock in one go (ingest waits at most that long).
const retention = sqliteRetentionStore(sqlite);
let longestBatchMs = 0;
const timed: RetentionStore = {
  tenants: () => retention.tenants(),
  async prune(...args) {
    const t = performance.now();
    const n = await retention.prune(...args);
    longestBatchMs = Math.max(longestBatchMs, performance.now() - t);
    return n;
  },
};
const deps = world.app.deps;
const pruner = new Pruner({
  store: timed,
  appendAudit: async (entry) => {
    world.app.database.db.transaction((tx) => appendAudit(tx, entry));
  },
  clock: world.clock,
  logger: deps.logger,
  metrics: deps.metrics,
});
t0 = performance.now();
const pruned = await pruner.runOnce();
const pruneMs = performance.now() - t0;
const prunedRows = Object.values(pruned).reduce((sum, c) => sum + (c.audit_log ?? 0), 0);

process.stdout.write(
  JSON.stringify({
    rows: ROWS,
    orgs: ORGS,
    seedRowsPerSec,
    bytesPerRow,
    exportFirstRowsPerSec: firstExport.rowsPerSec,
    exportNdjsonRowsPerSec: ndjson.rowsPerSec,
    exportCsvRowsPerSec: csv.rowsPerSec,
    exportRows: ndjson.rows,
    exportPeakRssMb: exportPeakRss / 2 ** 20,
    exportRssGrowthMb: (exportPeakRss - rssBefore) / 2 ** 20,
    p95,
    verifyRowsPerSec,
    prunedRows,
    pruneRowsPerSec: prunedRows / (pruneMs / 1000),
    longestPruneBatchMs: longestBatchMs,
  }),
);
await world.close();
process.exit(0);
