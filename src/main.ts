import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { loadKeys } from './crypto/keys.js';
import { openDatabase } from './db/client.js';
import { startServer } from './http/server.js';
import { systemClock } from './lib/clock.js';
import { createLogger } from './lib/logger.js';
import { createMetrics } from './ops/metrics.js';

/**
 * The process: config → keys → database (migrated) → app → serve. SIGTERM/SIGINT stop accepting,
 * let in-flight requests finish, close the database, and exit 0.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  loadKeys(config, logger);
  const database = openDatabase(config.database.path);
  database.migrate();
  const metrics = createMetrics();
  const app = createApp({ config, database, logger, metrics, clock: systemClock });
  const server = await startServer(app, { port: config.http.port, host: config.http.host });
  logger.info('listening', { url: server.url, database: config.database.path });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    try {
      await server.close();
    } finally {
      database.close();
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  // Bad configuration: one line naming the variable, no stack.
  if (err instanceof ConfigError) console.error(err.message);
  else console.error('fatal:', err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
