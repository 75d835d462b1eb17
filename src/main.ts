import { existsSync, statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { createApp } from './app.js';
import { backfillChains } from './audit/store.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { loadKeys } from './crypto/keys.js';
import { startCheckpointer } from './db/checkpointer.js';
import { openDatabase } from './db/client.js';
import { DatabaseInUseError, lockDatabase } from './db/instance-lock.js';
import { openPgDatabase, pgTarget } from './db/pg/client.js';
import { pgStorage } from './db/pg/stores.js';
import { sqliteStorage } from './db/sqlite-stores.js';
import { buildDeps } from './deps.js';
import { startServer } from './http/server.js';
import { systemClock } from './lib/clock.js';
import { createLogger, type Logger } from './lib/logger.js';

/**
 * V8 lets the old generation grow to up to 4× what survived its last full collection before it
 * collects again. A busy relay promotes much short-lived garbage, so its RSS followed that factor,
 * not what it holds: at 2,000 events/s on PostgreSQL 220–240 MB with ~50 MB live. At 2× it was
 * 171–174 MB, and CPU per delivered event stayed within the runs' noise on both backends (PostgreSQL
 * 1.03/1.07 ms against 1.03/1.08; SQLite 1.00–1.09 against 1.00–1.03). Set here, not on node's
 * command line, so every way of starting the relay gets it; V8 reads it at each collection.
 */
function lessGarbage(): void {
  setFlagsFromString('--heap-growing-percent=100');
}

/**
 * The process: config → keys → database (migrated) → app → serve, and the delivery worker.
 * SIGTERM/SIGINT stop accepting, let in-flight requests and deliveries finish, close the database,
 * and exit 0.
 */
async function main(): Promise<void> {
  lessGarbage();
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  if (!config.genesys.productId) {
    logger.info('GENESYS_PRODUCT_ID is not set: orgs are not checked for a licence (development orgs)');
  }
  const storage = await openStorage(config, logger);
  const keys = onDatabase(config.database.path, () => loadKeys(config, logger));
  const deps = buildDeps({ config, storage: storage.storage, logger, clock: systemClock, keys });
  const app = createApp(deps);
  const server = await startServer(app, { port: config.http.port, host: config.http.host, logger }).catch(
    (err: unknown) => {
      throw portProblem(config.http.port, config.http.host, err) ?? err;
    },
  );
  await deps.delivery.start();
  deps.pruner.start();
  await deps.licensing.start();
  logger.info('listening', { url: server.url, database: storage.describe });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    try {
      await server.close();
      // Deliveries in flight finish; queued ones wait in the database for the next start.
      await deps.pruner.stop();
      await deps.licensing.stop();
      await deps.delivery.stop();
      await deps.genesys.close();
    } finally {
      await storage.close();
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/**
 * PostgreSQL when DATABASE_URL is set (any number of instances; they take turns migrating), else
 * the SQLite file, locked to this process before anything touches it.
 */
async function openStorage(config: Config, logger: Logger) {
  const { url, path } = config.database;
  if (url) {
    const database = openPgDatabase(url, {
      max: config.database.poolSize,
      statementTimeoutMs: config.database.statementTimeoutMs,
    });
    try {
      await database.migrate();
    } catch (err) {
      await database.close();
      throw pgProblem(err) ?? err;
    }
    // Host (or socket folder) and database name only: the URL may carry a password.
    const { socket, url: target } = pgTarget(url);
    const { hostname, port, pathname } = new URL(target);
    return {
      storage: pgStorage(database),
      describe: `postgres://${socket ? encodeURIComponent(socket) : hostname}${port ? `:${port}` : ''}${pathname}`,
      close: () => database.close(),
    };
  }
  const lock = onDatabase(path, () => lockDatabase(path));
  const database = onDatabase(path, () => {
    const db = openDatabase(path);
    db.migrate();
    return db;
  });
  const chained = backfillChains(database.db);
  if (chained > 0) logger.info('chained audit rows written before the hash chain existed', { rows: chained });
  const checkpoints = startCheckpointer(database.sqlite, path, { logger });
  // Serving begins with the thread up (a few ms), not while it boots beside the first requests.
  await checkpoints.ready;
  const storage = sqliteStorage(database, { logger });
  return {
    storage,
    describe: path,
    close: async () => {
      await checkpoints.stop();
      // Moves the staged audit rows in before closing: a stopped server leaves none staged.
      await storage.close();
      lock.release();
    },
  };
}

/** A PostgreSQL that cannot be reached or entered, in one line that never shows the URL. */
function pgProblem(err: unknown): ConfigError | undefined {
  const code = (err as { code?: string }).code ?? '';
  const why: Record<string, string> = {
    ECONNREFUSED: 'refuses connections: is PostgreSQL running at that host and port?',
    ENOTFOUND: 'names a host that cannot be resolved',
    ETIMEDOUT: 'did not answer in time',
    '28P01': 'was refused: wrong user or password',
    '28000': 'was refused: this user may not connect from here (pg_hba.conf)',
    '3D000': 'names a database that does not exist: create it first',
    '42501': 'names a user without the rights to create tables (migrations need them)',
  };
  return why[code] ? new ConfigError('DATABASE_URL', why[code]) : undefined;
}

/** What an operator's DATABASE_PATH can be wrong about, in words that say what to fix. */
const DATABASE_PROBLEMS: Record<string, string> = {
  ENOTDIR: 'is inside a file, not a folder: point it at a file in a folder',
  // mkdir of its folder, where a file of that name stands
  EEXIST: 'is inside a file, not a folder: point it at a file in a folder',
  EISDIR: 'is a folder: point it at a file in it, e.g. ./data/relay.sqlite',
  EACCES: 'is not writable by this process: fix the folder’s permissions or choose another path',
  EROFS: 'is on a read-only file system: choose a writable path',
  SQLITE_CANTOPEN: 'cannot be opened as a SQLite file (is it a folder, or in one that cannot be made?)',
  SQLITE_READONLY: 'is read-only: fix its permissions or choose another path',
  SQLITE_NOTADB: 'is not a SQLite database: choose another path',
};

/** Runs a start-up step on the database; a failure the operator can fix becomes one line. */
function onDatabase<T>(path: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    const folder = code === 'SQLITE_CANTOPEN' && existsSync(path) && statSync(path).isDirectory();
    const why = DATABASE_PROBLEMS[folder ? 'EISDIR' : code];
    throw why ? new ConfigError('DATABASE_PATH', `${path} ${why}`) : err;
  }
}

function portProblem(port: number, host: string, err: unknown): ConfigError | undefined {
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE')
    return new ConfigError('PORT', `${port} is in use on ${host}: stop what holds it, or set another PORT`);
  if (code === 'EACCES')
    return new ConfigError('PORT', `${port} needs privileges this process lacks: use a port above 1023`);
  if (code === 'EADDRNOTAVAIL') return new ConfigError('HOST', `${host} is not an address of this machine`);
  return undefined;
}

main().catch((err: unknown) => {
  // Bad configuration, or the database taken by another process: one line, no stack.
  if (err instanceof ConfigError || err instanceof DatabaseInUseError) console.error(err.message);
  else console.error('fatal:', err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
