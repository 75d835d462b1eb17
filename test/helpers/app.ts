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
  const dir = opts.reuse ? undefined : tempDir('relay-app');
  const masterKey = opts.reuse?.masterKey ?? randomBytes(32).toString('base64url');
  const dbPath = opts.reuse?.dbPath ?? `${dir!.path}/relay.sqlite`;
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
  const server: RunningServer = await startServer(createApp(deps), {
    port: opts.port ?? 0,
    host: '127.0.0.1',
    logger,
  });
  if (opts.delivery) await deps.delivery.start();
  let closed = false;
  return {
    url: server.url,
    database,
    deps,
    clock,
    dbPath,
    masterKey,
    logs,
    close: async ({ keepData = false } = {}) => {
      if (closed) return;
      closed = true;
      await server.close(1_000);
      await deps.delivery.stop();
      await deps.genesys.close();
      database.close();
      if (!keepData) dir?.cleanup();
    },
  };
}
