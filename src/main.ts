import { existsSync, statSync } from 'node:fs';
import { createApp } from './app.js';
import { backfillChains } from './audit/store.js';
import { ConfigError, loadConfig } from './config.js';
import { loadKeys } from './crypto/keys.js';
import { openDatabase } from './db/client.js';
import { DatabaseInUseError, lockDatabase } from './db/instance-lock.js';
import { buildDeps } from './deps.js';
import { startServer } from './http/server.js';
import { systemClock } from './lib/clock.js';
import { createLogger } from './lib/logger.js';

/**
 * The process: config → keys → database (migrated) → app → serve, and the delivery worker.
 * SIGTERM/SIGINT stop accepting, let in-flight requests and deliveries finish, close the database,
 * and exit 0.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  if (!config.genesys.productId) {
    logger.info('GENESYS_PRODUCT_ID is not set: orgs are not checked for a licence (development orgs)');
  }
  // Before anything touches the database (the master key file sits beside it too).
  const path = config.database.path;
  const lock = onDatabase(path, () => lockDatabase(path));
  const keys = onDatabase(path, () => loadKeys(config, logger));
  const database = onDatabase(path, () => {
    const db = openDatabase(path);
    db.migrate();
    return db;
  });
  const chained = backfillChains(database.db);
  if (chained > 0) logger.info('chained audit rows written before the hash chain existed', { rows: chained });
  const deps = buildDeps({ config, database, logger, clock: systemClock, keys });
  const app = createApp(deps);
  const server = await startServer(app, { port: config.http.port, host: config.http.host, logger }).catch(
    (err: unknown) => {
      throw portProblem(config.http.port, config.http.host, err) ?? err;
    },
  );
  await deps.delivery.start();
  deps.pruner.start();
  await deps.licensing.start();
  logger.info('listening', { url: server.url, database: config.database.path });

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
      database.close();
      lock.release();
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
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
