import { appendAudit, sqliteAuditStore, sqliteChainStore } from '../audit/store.js';
import type { AuditEntry } from '../audit/types.js';
import { Budgets } from '../delivery/budget.js';
import { sqliteDeliveryQueries } from '../delivery/deliveries-store.js';
import { sqliteEventProcessingStore } from '../delivery/events-store.js';
import { sqliteDeliveryRecorder } from '../delivery/recorder-store.js';
import type { DeliveryStores } from '../delivery/worker.js';
import { sqliteEventQueries } from '../events/store.js';
import type { SharedTokenStore } from '../genesys/shared-tokens.js';
import { sqliteEventStore } from '../ingest/store.js';
import { sqliteLineageStore } from '../lineage/store.js';
import { SqliteJobQueue } from '../queue/sqlite-store.js';
import { sqliteRetentionStore } from '../retention/store.js';
import { sqliteRuleStore } from '../rules/store.js';
import { sqliteSourceStore } from '../sources/store.js';
import { sqliteTenantStore } from '../tenants/store.js';
import type { RelayDatabase } from './client.js';

/**
 * Every store of the SQLite backend, built in this one place: features see only the interfaces.
 * (The PostgreSQL backend will have its own builder with the same shape.)
 */
export function sqliteStores(
  database: RelayDatabase,
  ingest: { dedupWindowMs: number; onAccepted: () => void },
) {
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
    /** One audit row in its own transaction (the pruner's `audit.pruned`). */
    appendAudit: async (entry: AuditEntry) => {
      db.transaction((tx) => appendAudit(tx, entry));
    },
    lineage: sqliteLineageStore(sqlite),
    retention: sqliteRetentionStore(sqlite),
    /** None: one process owns the file, its token cache is the only one. */
    sharedTokens: undefined as SharedTokenStore | undefined,
  };
}

export type Stores = ReturnType<typeof sqliteStores>;
