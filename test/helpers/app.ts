import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { loadKeys } from '../../src/crypto/keys.js';
import { openDatabase, type RelayDatabase } from '../../src/db/client.js';
import { openPgDatabase } from '../../src/db/pg/client.js';
import { pgStorage } from '../../src/db/pg/stores.js';
import { sqliteStorage } from '../../src/db/sqlite-stores.js';
import type { Storage, Stores } from '../../src/db/stores.js';
import { type AppDeps, buildDeps } from '../../src/deps.js';
import { type RunningServer, startServer } from '../../src/http/server.js';
import { createLogger } from '../../src/lib/logger.js';
import { settled } from './audit-staged.js';
import { ManualClock } from './clock.js';
import { createDatabase } from './postgres.js';
import { tempDir } from './tmp.js';

/**
 * The backend test apps run on: SQLite, or with `RELAY_TEST_BACKEND=postgres` (the vitest
 * project `postgres`) a database of their own on the project's PostgreSQL server.
 */
export const TEST_BACKEND: 'sqlite' | 'postgres' =
  process.env.RELAY_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
export const ON_POSTGRES = TEST_BACKEND === 'postgres';

export interface TestApp {
  readonly url: string;
  readonly backend: 'sqlite' | 'postgres';
  /** The SQLite handle; on PostgreSQL, reading it throws (the test is SQLite-only there). */
  readonly database: RelayDatabase;
  /** Rows of a query written with `?` placeholders in the two dialects' common subset. */
  all<T = Record<string, unknown>>(query: string, ...params: unknown[]): Promise<T[]>;
  /** A statement in the common subset (seeding rows, breaking things on purpose). */
  run(query: string, ...params: unknown[]): Promise<void>;
  /**
   * The stores the app built, on either backend: tests seed audit rows through them
   * (`stores.appendAudit`) and drive delivery with the app's own queue and recorder.
   */
  readonly stores: Stores;
  readonly deps: AppDeps;
  readonly clock: ManualClock;
  /** The SQLite file (its WAL is `${dbPath}-wal`); on PostgreSQL the app's database URL. */
  readonly dbPath: string;
  /** base64url, as RELAY_MASTER_KEY. */
  readonly masterKey: string;
  /** Every JSON log line the app wrote. */
  readonly logs: string[];
  /** Stops the server; `keepData` leaves the database for a restart (`reuse`). */
  close(opts?: { keepData?: boolean }): Promise<void>;
}

/**
 * The real app on 127.0.0.1 with an ephemeral port, a real SQLite file in its own temp folder,
 * logs captured in memory. `genesysBaseUrl` points it at an emulator; `clock` may be shared with it.
 */
export async function startTestApp(
  opts: {
    migrate?: boolean;
    env?: Record<string, string>;
    genesysBaseUrl?: string;
    clock?: ManualClock;
    /** Restart on an earlier app's database and key (that app closed with `keepData`). */
    reuse?: { dbPath: string; masterKey: string };
    /** Run the delivery worker (events → jobs → PATCHes), as the server does. */
    delivery?: boolean;
    /** A fixed port (the admin UI's PKCE redirect URI must be known before start). */
    port?: number;
  } = {},
): Promise<TestApp> {
  const masterKey = opts.reuse?.masterKey ?? randomBytes(32).toString('base64url');
  const backend = await openBackend(opts.reuse?.dbPath, opts.migrate !== false);
  const config = loadConfig({
    DATABASE_PATH: ON_POSTGRES ? './unused.sqlite' : backend.dbPath,
    LOG_LEVEL: 'info',
    RELAY_MASTER_KEY: masterKey,
    ...(opts.genesysBaseUrl ? { GENESYS_BASE_URL: opts.genesysBaseUrl } : {}),
    ...opts.env,
  });
  const logs: string[] = [];
  const logger = createLogger(config.logLevel, (line) => logs.push(line));
  const clock = opts.clock ?? new ManualClock();
  // The stores the app builds, kept for `stores`.
  let stores: Stores | undefined;
  const storage: Storage = {
    ...backend.storage,
    stores: (ingest) => {
      stores = backend.storage.stores(ingest);
      return stores;
    },
  };
  const deps = buildDeps({ config, storage, logger, clock, keys: loadKeys(config, logger) });
  const server: RunningServer = await startServer(createApp(deps), {
    port: opts.port ?? 0,
    host: '127.0.0.1',
    logger,
  });
  if (opts.delivery) await deps.delivery.start();
  let closed = false;
  return {
    url: server.url,
    backend: TEST_BACKEND,
    get database() {
      if (!backend.sqlite) throw new Error('this test reads SQLite itself: it runs on SQLite only');
      return backend.sqlite;
    },
    all: backend.all,
    run: backend.run,
    get stores() {
      return stores!;
    },
    deps,
    clock,
    dbPath: backend.dbPath,
    masterKey,
    logs,
    close: async ({ keepData = false } = {}) => {
      if (closed) return;
      closed = true;
      await server.close(1_000);
      await deps.delivery.stop();
      await deps.genesys.close();
      await backend.close(keepData);
    },
  };
}

interface Backend {
  storage: Storage;
  sqlite: RelayDatabase | undefined;
  dbPath: string;
  all<T>(query: string, ...params: unknown[]): Promise<T[]>;
  run(query: string, ...params: unknown[]): Promise<void>;
  close(keepData: boolean): Promise<void>;
}

/** A fresh database of the test backend, or the one at `reuse` (an earlier app's `dbPath`). */
async function openBackend(reuse: string | undefined, migrate: boolean): Promise<Backend> {
  if (ON_POSTGRES) return openPgBackend(reuse, migrate);
  const dir = reuse ? undefined : tempDir('relay-app');
  const dbPath = reuse ?? `${dir!.path}/relay.sqlite`;
  const database = openDatabase(dbPath);
  if (migrate) database.migrate();
  const bound = (params: unknown[]) => params.map((v) => (typeof v === 'boolean' ? Number(v) : v));
  return {
    storage: sqliteStorage(database),
    sqlite: database,
    dbPath,
    // A test's own SQL sees audit rows as the app's readers do: the staged ones moved in first.
    all: async <T>(query: string, ...params: unknown[]) =>
      settled(database)
        .prepare(query)
        .all(...bound(params)) as T[],
    // better-sqlite3 refuses `all` for a statement that returns no rows.
    run: async (query, ...params) => {
      settled(database)
        .prepare(query)
        .run(...bound(params));
    },
    close: async (keepData) => {
      database.close();
      if (!keepData) dir?.cleanup();
    },
  };
}

let databases = 0;

async function openPgBackend(reuse: string | undefined, migrate: boolean): Promise<Backend> {
  let url = reuse;
  if (!url) {
    const template = inject('pgTemplateUrl');
    const on = (db: string) => template.replace(/\/relay$/, `/${db}`);
    const name = `app_${process.pid}_${++databases}`;
    // Unmigrated: an empty database, as a fresh server's would be.
    await createDatabase(on('postgres'), name, migrate ? 'relay' : undefined);
    url = on(name);
  }
  const database = openPgDatabase(url, { max: 4 });
  // Timestamps are bigint: read back as numbers, as the app's drizzle schema reads them.
  const raw = postgres(url, {
    max: 1,
    onnotice: () => {},
    types: {
      bigint: { to: 20, from: [20], serialize: (v: number) => String(v), parse: (v: string) => Number(v) },
    },
  });
  const numbered = (query: string) => {
    let n = 0;
    return query.replace(/\?/g, () => `$${++n}`);
  };
  return {
    storage: pgStorage(database),
    sqlite: undefined,
    dbPath: url,
    all: async <T>(query: string, ...params: unknown[]) =>
      (await raw.unsafe(numbered(query), params as never[])) as unknown as T[],
    run: async (query, ...params) => {
      await raw.unsafe(numbered(query), params as never[]);
    },
    close: async () => {
      await raw.end({ timeout: 5 });
      await database.close();
    },
  };
}
