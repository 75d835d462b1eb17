import { type SQL, sql } from 'drizzle-orm';
import type { PgDb } from '../db/pg/client.js';
import { idFloor } from '../lib/ids.js';
import type { PrunedTable, RetentionStore } from './store.js';

/** Every event id is `evt_` and 26 characters (`newId`); a job's idempotency key starts with it. */
const EVENT_ID_LENGTH = idFloor('evt', 0).length;

/**
 * The PostgreSQL twin of `sqliteRetentionStore`: the same rows go, oldest first, in batches. An
 * event stays while a deliver job for it is pending or running. On SQLite those jobs are a range
 * of keys (`<event id>\0…`); PostgreSQL text cannot hold \0, so here an event's jobs are those
 * whose key starts with its id, whatever follows, read once per batch as a hashed set.
 */
export function pgRetentionStore(db: PgDb): RetentionStore {
  return {
    async tenants() {
      return db.execute<{ orgId: string; auditRetentionDays: number }>(
        sql`select org_id as "orgId", audit_retention_days as "auditRetentionDays" from tenants`,
      );
    },
    async prune(table, orgId, cut, limit) {
      const floor = table === 'ingest_keys' ? cut : idFloor(PREFIX[table], cut);
      const result = await db.execute(PRUNE[table](orgId, floor, limit));
      return result.count;
    },
  };
}

const PREFIX = { audit_log: 'aud', events: 'evt', delivery_attempts: 'att', jobs: 'job' } as const;

type Prune = (orgId: string, floor: string | number, limit: number) => SQL;

/** Deletes at most `limit` rows of the org's that `where` selects, by their primary key. */
const batch =
  (table: string, key: string, where: (floor: string | number) => SQL): Prune =>
  (orgId, floor, limit) =>
    sql`delete from ${sql.raw(table)} where (${sql.raw(key)}) in (
      select ${sql.raw(key)} from ${sql.raw(table)} where org_id = ${orgId} and ${where(floor)}
      order by ${sql.raw(key)} limit ${limit})`;

const PRUNE: Record<PrunedTable, Prune> = {
  audit_log: batch('audit_log', 'id', (floor) => sql`id < ${floor}`),
  events: (orgId, floor, limit) =>
    batch(
      'events',
      'id',
      (f) => sql`id < ${f} and state != 'pending' and id not in (
        select left(j.idempotency_key, ${EVENT_ID_LENGTH}) from jobs j
        where j.kind = 'deliver' and j.org_id = ${orgId} and j.status in ('pending', 'running')
          and j.idempotency_key is not null)`,
    )(orgId, floor, limit),
  delivery_attempts: batch('delivery_attempts', 'id', (floor) => sql`id < ${floor}`),
  jobs: batch('jobs', 'id', (floor) => sql`status in ('succeeded', 'failed') and id < ${floor}`),
  ingest_keys: batch('ingest_keys', 'source_id, key', (floor) => sql`expires_at < ${floor}`),
};
