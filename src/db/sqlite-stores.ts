import { appendAudit, sqliteAuditStore, sqliteChainStore } from '../audit/store.js';
import type { AuditEntry } from '../audit/types.js';
import { Budgets } from '../delivery/budget.js';
import { sqliteDeliveryQueries } from '../delivery/deliveries-store.js';
import { sqliteEventProcessingStore } from '../delivery/events-store.js';
import { sqliteDeliveryRecorder } from '../delivery/recorder-store.js';
import type { DeliveryStores } from '../delivery/worker.js';
import { sqliteEventQueries } from '../events/store.js';
import { sqliteEventStore } from '../ingest/store.js';
import { sqliteLineageStore } from '../lineage/store.js';
import { SqliteJobQueue } from '../queue/sqlite-store.js';
import { sqliteRetentionStore } from '../retention/store.js';
import { sqliteRuleStore } from '../rules/store.js';
import { sqliteSourceStore } from '../sources/store.js';
import { sqliteTenantStore } from '../tenants/store.js';
import type { RelayDatabase } from './client.js';
import type { IngestOptions, Storage, Stores } from './stores.js';

/** The SQLite backend: one process owns the file (see instance-lock.ts). */
export function sqliteStorage(database: RelayDatabase): Storage {
  return {
    backend: 'sqlite',
    stores: (ingest) => sqliteStores(database, ingest),
    readiness: async () => database.readiness(),
    optimize: async () => database.optimize(),
    close: async () => database.close(),
  };
}

/** Every store of the SQLite backend, built in this one place: features see only the interfaces. */
export function sqliteStores(database: RelayDatabase, ingest: IngestOptions): Stores {
  const { db, sqlite } = database;
  const queue = new SqliteJobQueue(sqlite);
  const delivery: DeliveryStores = {
    queue,
    processing: sqliteEventProcessingStore(sqlite, queue),
    recorder: sqliteDeliveryRecorder(sqlite),
    queries: sqliteDeliveryQueries(sqlite),
    budgets: new Budgets(),
  };
  return {
    tenants: sqliteTenantStore(db),
    sources: sqliteSourceStore(db),
    rules: sqliteRuleStore(db),
    events: sqliteEventStore(sqlite, ingest),
    eventQueries: sqliteEventQueries(db, sqlite, delivery.queries),
    delivery,
    audit: sqliteAuditStore(db),
    auditChain: sqliteChainStore(db),
    appendAudit: async (entry: AuditEntry) => {
      db.transaction((tx) => appendAudit(tx, entry));
    },
    lineage: sqliteLineageStore(sqlite),
    retention: sqliteRetentionStore(sqlite),
    /** None: one process owns the file, its token cache is the only one. */
  };
}
