import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgDatabase, type PgDatabase } from '../../src/db/pg/client.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

/** The PostgreSQL handle: migrations are safe from several instances at once, readiness says why not. */
let server: TestPostgres;
const opened: PgDatabase[] = [];
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await Promise.all(opened.map((d) => d.close()));
  await server?.close();
});

function open() {
  const database = openPgDatabase(server.url, { max: 2, statementTimeoutMs: 5_000 });
  opened.push(database);
  return database;
}

describe('openPgDatabase', () => {
  it('is not ready before its migrations, then three instances migrating at once all succeed', async () => {
    const instances = [open(), open(), open()];
    expect(await instances[0]!.readiness()).toEqual({ ready: false, reason: 'migrations not applied' });
    await Promise.all(instances.map((d) => d.migrate()));
    for (const d of instances) expect(await d.readiness()).toEqual({ ready: true });
    const applied = await instances[0]!.sql<
      { hash: string }[]
    >`select hash from drizzle.__drizzle_migrations`;
    expect(applied.length).toBeGreaterThan(0);
    // Each migration was applied once, not once per instance.
    expect(new Set(applied.map((r) => r.hash)).size).toBe(applied.length);
    const tables = await instances[0]!.sql`
      select 1 from information_schema.tables where table_name = 'audit_log'`;
    expect(tables).toHaveLength(1);
  });

  it('connects through a Unix socket named as libpq names one, and migrates through it', async () => {
    const { port, pathname } = new URL(server.url);
    const urls = [
      `postgresql://postgres@${encodeURIComponent(server.socketDir)}:${port}${pathname}`,
      // No host, and the folder, port and user as parameters: `postgresql:///relay?host=…`.
      `postgresql://${pathname}?host=${server.socketDir}&port=${port}&user=postgres`,
    ];
    for (const url of urls) {
      const d = openPgDatabase(url, { max: 1 });
      opened.push(d);
      await d.migrate();
      // No server address: the connection is not over TCP.
      const [row] = await d.sql<{ addr: string | null; who: string }[]>`
        select inet_server_addr()::text as addr, current_user as who`;
      expect(row, url).toEqual({ addr: null, who: 'postgres' });
    }
  });

  it('cancels a statement that runs past its timeout', async () => {
    const database = openPgDatabase(server.url, { max: 1, statementTimeoutMs: 200 });
    opened.push(database);
    await expect(database.sql`select pg_sleep(2)`).rejects.toMatchObject({ code: '57014' });
  });
});
