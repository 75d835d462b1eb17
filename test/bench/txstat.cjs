/**
 * BENCH_TXSTAT=<folder>: preloaded into each built relay (node --require), it counts every SQLite
 * transaction by the line that made it, with the CPU spent inside (statements and commit) and the
 * items per call (the group commits' batches), and writes a table to <folder>/txstat-<pid>.txt as
 * the relay exits.
 * Nested transactions (savepoints) count inside their parent too. A commit's cost is mostly the
 * pages it writes (one WAL frame each, ~10 µs), so this says which writer to batch or slim next.
 */
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const Database = require('better-sqlite3');

const stats = new Map();
const original = Database.prototype.transaction;

Database.prototype.transaction = function transaction(fn) {
  const line = (new Error().stack ?? '').split('\n')[2] ?? '';
  const site = line
    .trim()
    .replace(/^at /, '')
    .replace(/.*\/dist\//, '')
    .replace(/\)$/, '');
  const made = original.call(this, fn);
  const counted = (variant) =>
    function run(...args) {
      const s = stats.get(site) ?? { calls: 0, us: 0, items: 0 };
      stats.set(site, s);
      const before = process.cpuUsage();
      try {
        return variant.apply(this, args);
      } finally {
        const used = process.cpuUsage(before);
        s.calls++;
        s.us += used.user + used.system;
        if (Array.isArray(args[0])) s.items += args[0].length;
      }
    };
  const wrapped = counted(made);
  for (const mode of ['deferred', 'immediate', 'exclusive']) wrapped[mode] = counted(made[mode]);
  wrapped.default = wrapped;
  return wrapped;
};

function report() {
  const rows = [...stats].sort((a, b) => b[1].us - a[1].us);
  const lines = rows.map(
    ([site, s]) =>
      `${(s.us / 1000).toFixed(0).padStart(8)} ms ${String(s.calls).padStart(8)} calls ${(s.us / s.calls)
        .toFixed(0)
        .padStart(6)} µs/call ${(s.items / s.calls).toFixed(1).padStart(6)} items/call  ${site}`,
  );
  const folder = process.env.BENCH_TXSTAT;
  if (folder) writeFileSync(join(folder, `txstat-${process.pid}.txt`), `${lines.join('\n')}\n`);
}

process.on('exit', report);
