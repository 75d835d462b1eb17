import { openPgDatabase, type PgDatabase } from '../../src/db/pg/client.js';
import { startPostgres } from './postgres.js';

/** A real PostgreSQL server of its own, migrated, with the relay's handle on it; `close` stops both. */
export async function startPgDatabase(): Promise<{
  database: PgDatabase;
  url: string;
  close(): Promise<void>;
}> {
  const server = await startPostgres();
  const database = openPgDatabase(server.url, { max: 4 });
  try {
    await database.migrate();
  } catch (err) {
    await database.close();
    await server.close();
    throw err;
  }
  return {
    database,
    url: server.url,
    close: async () => {
      await database.close();
      await server.close();
    },
  };
}
