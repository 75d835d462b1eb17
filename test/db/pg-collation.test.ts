import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgDatabase, type PgDatabase } from '../../src/db/pg/client.js';
import { eventJobs, pgDeliveryQueries } from '../../src/delivery/deliveries-pg-store.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

/**
 * A production database is often C.UTF-8 or en_US.UTF-8, where PostgreSQL cannot turn a prefix
 * match into an index range (it can only under "C"). The test servers are C.UTF-8 too; this file
 * makes its own such database so the point holds whatever the helper's default becomes.
 */
let server: TestPostgres;
let database: PgDatabase;
beforeAll(async () => {
  server = await startPostgres();
  const admin = postgres(server.url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database utf8 template template0 locale 'C.utf8'`);
  await admin.end();
  database = openPgDatabase(server.url.replace(/\/relay$/, '/utf8'), { max: 2 });
  await database.migrate();
});
afterAll(async () => {
  await database?.close();
  await server?.close();
});

describe('on a database whose collation is not C', () => {
  it('finds an event’s deliveries through the key index, not by reading every job', async () => {
    const [db] = await database.sql<{ collation: string }[]>`
      select datcollate as collation from pg_database where datname = current_database()`;
    expect(db!.collation).toBe('C.utf8');
    // 20,000 events of two jobs each; keys as the delivery writes them (`<event>\0<n>`, encoded).
    await database.sql`
      insert into jobs (id, kind, org_id, lane, payload, status, attempts, max_attempts, run_at,
        created_at, updated_at, idempotency_key)
      select 'job_' || lpad(i::text, 26, '0'), 'deliver', 'org-a', 'lane-' || i,
        '{"target":{},"attributes":{"n":"' || (i % 2) || '"},"rules":[]}', 'succeeded', 1, 10, i, i, i,
        'evt_' || lpad((i / 2)::text, 26, '0') || '\\0' || (i % 2)
      from generate_series(0, 39999) i`;
    await database.sql`analyze jobs`;
    const eventId = `evt_${'12345'.padStart(26, '0')}`;

    const rows = await pgDeliveryQueries(database).ofEvent('org-a', eventId);
    expect(rows.map((r) => [r.jobId, r.attributes])).toEqual([
      [`job_${'24690'.padStart(26, '0')}`, { n: '0' }],
      [`job_${'24691'.padStart(26, '0')}`, { n: '1' }],
    ]);

    const query = eventJobs(database.db, 'org-a', eventId).toSQL();
    const plan = (await database.sql.unsafe(`explain ${query.sql}`, query.params as never[]))
      .map((r) => r['QUERY PLAN'] as string)
      .join('\n');
    expect(plan).toContain('Index Cond');
    expect(plan).toMatch(/jobs_idempotency[\s\S]*idempotency_key >=/);
    expect(plan).not.toContain('Seq Scan');
  });
});
