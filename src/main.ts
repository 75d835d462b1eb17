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
  // Before anything touches the database (the master key file sits beside it too).
  const lock = lockDatabase(config.database.path);
  const keys = loadKeys(config, logger);
  const database = openDatabase(config.database.path);
  database.migrate();
  const chained = backfillChains(database.db);
  if (chained > 0) logger.info('chained audit rows written before the hash chain existed', { rows: chained });
  const deps = buildDeps({ config, database, logger, clock: systemClock, keys });
  const app = createApp(deps);
  const server = await startServer(app, { port: config.http.port, host: config.http.host, logger });
  deps.delivery.start();
  deps.pruner.start();
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

main().catch((err: unknown) => {
  // Bad configuration, or the database taken by another process: one line, no stack.
  if (err instanceof ConfigError || err instanceof DatabaseInUseError) console.error(err.message);
  else console.error('fatal:', err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
