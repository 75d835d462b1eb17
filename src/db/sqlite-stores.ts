import { type AuditStaging, settledFirst, sqliteAuditStaging } from '../audit/staging-store.js';
import { appendAudit, sqliteAuditStore, sqliteChainStore } from '../audit/store.js';
import type { AuditEntry } from '../audit/types.js';
import { Budgets } from '../delivery/budget.js';
import { sqliteDeliveryQueries } from '../delivery/deliveries-store.js';
import { sqliteEventProcessingStore } from '../delivery/events-store.js';
import { sqliteDeliveryRecorder } from '../delivery/recorder-store.js';
import type { DeliveryStores } from '../delivery/worker.js';
import { sqliteEventQueries } from '../events/store.js';
import { sqliteEventStore } from '../ingest/store.js';
import type { Logger } from '../lib/logger.js';
import { sqliteLineageStore } from '../lineage/store.js';
import { SqliteJobQueue } from '../queue/sqlite-store.js';
import { sqliteRetentionStore } from '../retention/store.js';
import { sqliteRuleStore } from '../rules/store.js';
import { sqliteSourceStore } from '../sources/store.js';
import { sqliteTenantStore } from '../tenants/store.js';
import type { RelayDatabase } from './client.js';
import type { IngestOptions, Storage, Stores } from './stores.js';

/** The SQLite backend: one process owns the file (see instance-lock.ts). */
export function sqliteStorage(
  database: RelayDatabase,
  { auditMoveEveryMs, logger }: { auditMoveEveryMs?: number; logger?: Logger } = {},
): Storage {
  const staging = sqliteAuditStaging(database.sqlite, {
    everyMs: auditMoveEveryMs,
    onError: (err) => logger?.warn('moving staged audit rows failed: they stay staged', { err }),
  });
  return {
    backend: 'sqlite',
    stores: (ingest) => sqliteStores(database, ingest, staging),
    readiness: async () => database.readiness(),
    optimize: async () => database.optimize(),
    close: async () => {
      try {
        staging.stop();
      } finally {
        database.close();
      }
    },
  };
}

/**
 * Every store of the SQLite backend, built in this one place: features see only the interfaces.
 * Each store that reads recent audit rows moves the staged ones in first (see staging-store.ts).
 */
function sqliteStores(database: RelayDatabase, ingest: IngestOptions, staging: AuditStaging): Stores {
  const { db, sqlite } = database;
  const settled = <T extends object>(store: T) => settledFirst(store, staging.settle);
  staging.start();
  const queue = new SqliteJobQueue(sqlite);
  const delivery: DeliveryStores = {
    queue,
    processing: sqliteEventProcessingStore(sqlite, queue),
    recorder: sqliteDeliveryRecorder(sqlite),
    queries: settled(sqliteDeliveryQueries(sqlite)),
    budgets: new Budgets(),
  };
  return {
    tenants: sqliteTenantStore(db),
    sources: sqliteSourceStore(db),
    rules: sqliteRuleStore(db),
    events: sqliteEventStore(sqlite, ingest),
    eventQueries: settled(sqliteEventQueries(db, sqlite, delivery.queries)),
    delivery,
    audit: settled(sqliteAuditStore(db)),
    auditChain: settled(sqliteChainStore(db)),
    appendAudit: async (entry: AuditEntry) => {
      db.transaction((tx) => appendAudit(tx, entry));
    },
    lineage: settled(sqliteLineageStore(sqlite)),
    // Not settled: it prunes rows days old, never one staged a second ago.
    retention: sqliteRetentionStore(sqlite),
    /** None: one process owns the file, its token cache is the only one. */
  };
}
