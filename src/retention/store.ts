import type BetterSqlite3 from 'better-sqlite3';
import { idFloor } from '../lib/ids.js';

/** The tables retention prunes, and the metric label of each. */
export const PRUNED_TABLES = ['audit_log', 'events', 'delivery_attempts', 'jobs', 'ingest_keys'] as const;
export type PrunedTable = (typeof PRUNED_TABLES)[number];

/** What retention may delete, per org, in small batches. */
export interface RetentionStore {
  tenants(): Promise<Array<{ orgId: string; auditRetentionDays: number }>>;
  /**
   * Deletes at most `limit` of the org's rows of `table` that are past `cut` (ms): audit rows,
   * events and attempts made before it, finished jobs created before it, dedup keys expired by
   * it. Returns how many went; fewer than `limit` means none are left.
   */
  prune(table: PrunedTable, orgId: string, cut: number, limit: number): Promise<number>;
}

/**
 * On SQLite. Ids sort by creation time (`idFloor`), so "older than the cut" is a range on each
 * org's id index, and a batch is the oldest rows first. Events with unfinished deliveries stay.
 */
export function sqliteRetentionStore(sqlite: BetterSqlite3.Database): RetentionStore {
  let prepared: ReturnType<typeof prepare> | undefined;
  return {
    async tenants() {
      prepared ??= prepare(sqlite);
      return prepared.tenants.all() as Array<{ orgId: string; auditRetentionDays: number }>;
    },
    async prune(table, orgId, cut, limit) {
      prepared ??= prepare(sqlite);
      const floor = table === 'ingest_keys' ? cut : idFloor(PREFIX[table], cut);
      return prepared.prune[table].run({ orgId, floor, limit }).changes;
    },
  };
}

const PREFIX = { audit_log: 'aud', events: 'evt', delivery_attempts: 'att', jobs: 'job' } as const;

function prepare(sqlite: BetterSqlite3.Database) {
  const batch = (table: string, where: string) =>
    sqlite.prepare(
      `delete from ${table} where rowid in (select rowid from ${table} where org_id = @orgId and ${where} limit @limit)`,
    );
  return {
    tenants: sqlite.prepare(
      'select org_id as orgId, audit_retention_days as auditRetentionDays from tenants',
    ),
    prune: {
      audit_log: batch('audit_log', 'id < @floor'),
      events: batch(
        'events',
        `id < @floor and state != 'pending' and not exists (select 1 from jobs j where j.kind = 'deliver' and j.org_id = events.org_id
           and j.status in ('pending', 'running') and j.idempotency_key > events.id || char(0)
           and j.idempotency_key < events.id || char(1))`,
      ),
      delivery_attempts: batch('delivery_attempts', 'id < @floor'),
      jobs: batch('jobs', `status in ('succeeded', 'failed') and id < @floor`),
      ingest_keys: batch('ingest_keys', 'expires_at < @floor'),
    },
  };
}
