import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { AUTOCHECKPOINT_PAGES } from './checkpointer.js';
import * as schema from './schema.js';

/**
 * Resolved from this file, not the working directory: src/db/ and dist/db/ both sit two levels
 * below the project root, beside migrations/.
 */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));

export type Db = BetterSQLite3Database<typeof schema>;
/** The handle inside `db.transaction((tx) => …)`: synchronous, never awaited in. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface RelayDatabase {
  readonly db: Db;
  readonly sqlite: Database.Database;
  /** Applies the committed migrations not yet applied (and refreshes the planner's statistics). */
  migrate(): void;
  /** Refreshes the query planner's statistics where they are stale (cheap; run periodically). */
  optimize(): void;
  /** Whether the database answers and every committed migration is applied. */
  readiness(): { ready: true } | { ready: false; reason: string };
  close(): void;
}

/**
 * Opens (creating its folder) a SQLite file with the pragmas the server relies on: WAL so readers
 * never block the writer, synchronous=NORMAL (durable across process crashes, fsync at checkpoints),
 * fewer and larger checkpoints, foreign keys enforced, and a busy timeout because a CLI or
 * migration may hold the file briefly.
 */
export function openDatabase(path: string): RelayDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('temp_store = MEMORY');
  // 8 MB of pages per connection (the default is 2 MB): the hot pages of every org fit, and a
  // miss is a read from the OS cache. 32 MB held ~20 MB more RSS and bought nothing measurable:
  // perf bench 1.02 vs 0.97 ms a delivered event; audit filters p95 within 0.5 ms on 1M rows.
  sqlite.pragma('cache_size = -8000');
  // A checkpoint copies every page the WAL holds back into the file (and syncs it). At the default
  // 1,000 pages the hot pages (each org's end of every audit and job index) were copied again every
  // few hundred events: 10,000 pages (~40 MB of WAL) took a delivered event from 1.12 to 1.01 ms of
  // CPU and 632 to 775 patched/s (the perf bench). The WAL is cut back to 64 MB when it restarts.
  // The server moves checkpoints off the event loop (checkpointer.ts) and turns these off.
  sqlite.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  sqlite.pragma('journal_size_limit = 67108864');
  const db = drizzle({ client: sqlite, schema, casing: 'snake_case' });
  const latest = latestMigrationMillis();
  return {
    db,
    sqlite,
    migrate: () => {
      migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
      optimize(sqlite);
    },
    optimize: () => optimize(sqlite),
    readiness: () => readiness(sqlite, latest),
    close: () => {
      if (sqlite.open) sqlite.close();
    },
  };
}

/**
 * Without statistics SQLite's planner walks an org's whole (org_id, id) index for an audit filter
 * that has an index of its own: an eventId filter took 4.2 ms on 500,000 rows, 0.01 ms after
 * ANALYZE. `analysis_limit` keeps ANALYZE to a sample, so this stays cheap on a large database.
 */
function optimize(sqlite: Database.Database): void {
  sqlite.pragma('analysis_limit = 1000');
  sqlite.pragma('optimize = 0x10002');
}

/** The `when` of the newest committed migration, as drizzle records it in `created_at`. */
function latestMigrationMillis(): number {
  const journal = JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as {
    entries: Array<{ when: number }>;
  };
  return Math.max(0, ...journal.entries.map((e) => e.when));
}

function readiness(sqlite: Database.Database, latest: number) {
  try {
    const hasTable = sqlite
      .prepare("select 1 from sqlite_master where type = 'table' and name = '__drizzle_migrations'")
      .get();
    if (!hasTable) return { ready: false as const, reason: 'migrations not applied' };
    const row = sqlite.prepare('select max(created_at) as applied from __drizzle_migrations').get() as {
      applied: number | null;
    };
    if ((row.applied ?? 0) < latest) return { ready: false as const, reason: 'migrations pending' };
    return { ready: true as const };
  } catch {
    return { ready: false as const, reason: 'database unavailable' };
  }
}
