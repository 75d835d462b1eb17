/**
 * What indexing audit rows in bulk would save on SQLite (README, Performance). Run on a database a
 * perf case kept: `BENCH_KEEP_DB=/tmp/kept.sqlite BENCH_PERF_CASES=delivery BENCH_PERF_BACKENDS=sqlite
 * npx tsx test/bench/perf.ts`, then `npx tsx test/bench/bulk-index.ts /tmp/kept.sqlite`. On a copy,
 * it writes the audit rows again, 60 a commit as a group commit does: inserted with their indexes
 * at once, or into an unindexed table whose rows move into the indexed one every M rows (one
 * commit). Prints CPU and WAL bytes a row; asserts nothing.
 */
import { copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers/tmp.js';

const kept = process.argv[2];
if (!kept) throw new Error('usage: tsx test/bench/bulk-index.ts <a database BENCH_KEEP_DB kept>');
const COMMIT = 60;
const COLUMNS =
  'id, org_id, at, kind, actor, source_id, event_id, rule_ids, conversation_id, participant_id, outcome, detail, seq, hash';
// New ids and seqs, so the rows go in again beside the originals.
const VALUES = `@id || 'x', @org_id, @at, @kind, @actor, @source_id, @event_id, @rule_ids, @conversation_id,
  @participant_id, @outcome, @detail, @seq + 1000000000, @hash`;

const source = new Database(kept, { readonly: true });
const rows = source.prepare('select * from audit_log order by rowid').all() as Record<string, unknown>[];
source.close();

function run(label: string, moveEvery: number | undefined): void {
  const dir = tempDir('bulk-index');
  const path = join(dir.path, 'copy.sqlite');
  copyFileSync(kept!, path);
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('cache_size = -8000');
    db.pragma('wal_autocheckpoint = 0'); // the WAL's size is then what the commits wrote
    db.exec('create table audit_stage as select * from audit_log where 0');
    const direct = db.prepare(`insert into audit_log (${COLUMNS}) values (${VALUES})`);
    const stage = db.prepare(`insert into audit_stage (${COLUMNS}) values (${VALUES})`);
    const move = db.transaction(() => {
      db.exec(`insert into audit_log (${COLUMNS}) select ${COLUMNS} from audit_stage order by id`);
      db.exec('delete from audit_stage');
    });
    const before = process.cpuUsage();
    let staged = 0;
    for (let i = 0; i < rows.length; i += COMMIT) {
      const batch = rows.slice(i, i + COMMIT);
      db.transaction(() => {
        for (const r of batch) (moveEvery ? stage : direct).run(r);
      })();
      staged += batch.length;
      if (moveEvery && staged >= moveEvery) {
        move();
        staged = 0;
      }
    }
    if (moveEvery && staged > 0) move();
    const used = process.cpuUsage(before);
    const walKb = statSync(`${path}-wal`).size / 1024;
    process.stdout.write(
      `${label.padEnd(36)}${((used.user + used.system) / rows.length).toFixed(1).padStart(7)} µs a row` +
        `${(walKb / rows.length).toFixed(1).padStart(7)} KB of WAL a row\n`,
    );
  } finally {
    db.close();
    dir.cleanup();
  }
}

process.stdout.write(`${rows.length} audit rows, ${COMMIT} a commit\n`);
run('indexed at once', undefined);
for (const m of [600, 2_400, 12_000]) run(`staged, moved ${m.toLocaleString('en')} at a time`, m);
