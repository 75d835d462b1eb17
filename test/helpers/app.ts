import { randomBytes } from 'node:crypto';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { loadKeys } from '../../src/crypto/keys.js';
import { openDatabase, type RelayDatabase } from '../../src/db/client.js';
import { type AppDeps, buildDeps } from '../../src/deps.js';
import { type RunningServer, startServer } from '../../src/http/server.js';
import { createLogger } from '../../src/lib/logger.js';
import { ManualClock } from './clock.js';
import { tempDir } from './tmp.js';

export interface TestApp {
  readonly url: string;
  readonly database: RelayDatabase;
  readonly deps: AppDeps;
  readonly clock: ManualClock;
  /** The SQLite file (its WAL is `${dbPath}-wal`). */
  readonly dbPath: string;
  /** base64url, as RELAY_MASTER_KEY. */
  readonly masterKey: string;
  /** Every JSON log line the app wrote. */
  readonly logs: string[];
  close(): Promise<void>;
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
  } = {},
): Promise<TestApp> {
  const dir = tempDir('relay-app');
  const masterKey = randomBytes(32).toString('base64url');
  const dbPath = `${dir.path}/relay.sqlite`;
  const config = loadConfig({
    DATABASE_PATH: dbPath,
    LOG_LEVEL: 'info',
    RELAY_MASTER_KEY: masterKey,
    ...(opts.genesysBaseUrl ? { GENESYS_BASE_URL: opts.genesysBaseUrl } : {}),
    ...opts.env,
  });
  const logs: string[] = [];
  const logger = createLogger(config.logLevel, (line) => logs.push(line));
  const database = openDatabase(config.database.path);
  if (opts.migrate !== false) database.migrate();
  const clock = opts.clock ?? new ManualClock();
  const deps = buildDeps({ config, database, logger, clock, keys: loadKeys(config, logger) });
  const server: RunningServer = await startServer(createApp(deps), { port: 0, host: '127.0.0.1' });
  return {
    url: server.url,
    database,
    deps,
    clock,
    dbPath,
    masterKey,
    logs,
    close: async () => {
      await server.close(1_000);
      await deps.genesys.close();
      database.close();
      dir.cleanup();
    },
  };
}
