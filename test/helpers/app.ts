import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type RelayDatabase } from '../../src/db/client.js';
import { type RunningServer, startServer } from '../../src/http/server.js';
import { createLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { ManualClock } from './clock.js';
import { tempDir } from './tmp.js';

export interface TestApp {
  readonly url: string;
  readonly database: RelayDatabase;
  readonly clock: ManualClock;
  /** Every JSON log line the app wrote. */
  readonly logs: string[];
  close(): Promise<void>;
}

/**
 * The real app on 127.0.0.1 with an ephemeral port, a real SQLite file in its own temp folder,
 * and logs captured in memory.
 */
export async function startTestApp(
  opts: { migrate?: boolean; env?: Record<string, string> } = {},
): Promise<TestApp> {
  const dir = tempDir('relay-app');
  const config = loadConfig({ DATABASE_PATH: `${dir.path}/relay.sqlite`, LOG_LEVEL: 'info', ...opts.env });
  const logs: string[] = [];
  const logger = createLogger(config.logLevel, (line) => logs.push(line));
  const database = openDatabase(config.database.path);
  if (opts.migrate !== false) database.migrate();
  const clock = new ManualClock();
  const app = createApp({ config, database, logger, metrics: createMetrics(), clock });
  const server: RunningServer = await startServer(app, { port: 0, host: '127.0.0.1' });
  return {
    url: server.url,
    database,
    clock,
    logs,
    close: async () => {
      await server.close(1_000);
      database.close();
      dir.cleanup();
    },
  };
}
