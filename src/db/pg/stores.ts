import { appendAuditPg, pgAuditStore, pgChainStore } from '../../audit/pg-store.js';
import type { AuditEntry } from '../../audit/types.js';
import { PgBudgetStore } from '../../delivery/budget-pg-store.js';
import { pgDeliveryQueries } from '../../delivery/deliveries-pg-store.js';
import { pgEventProcessingStore } from '../../delivery/events-pg-store.js';
import { pgDeliveryRecorder } from '../../delivery/recorder-pg-store.js';
import type { DeliveryStores } from '../../delivery/worker.js';
import { pgSharedTokenStore } from '../../genesys/tokens-pg-store.js';
import { pgLineageStore } from '../../lineage/pg-store.js';
import { PgJobQueue } from '../../queue/pg-store.js';
import { pgRetentionStore } from '../../retention/pg-store.js';
import { pgRuleStore } from '../../rules/pg-store.js';
import { pgSourceStore } from '../../sources/pg-store.js';
import { pgTenantStore } from '../../tenants/pg-store.js';
import type { Stores } from '../sqlite-stores.js';
import type { PgDatabase } from './client.js';

/**
 * Every store of the PostgreSQL backend, built in this one place, with the same keys as
 * `sqliteStores` for the stores that exist so far (checked: each key has its SQLite twin's type).
 * The ingest event store and the events view's queries follow; not wired into deps yet.
 */
export function pgStores(database: PgDatabase) {
  const { db } = database;
  const queue = new PgJobQueue(database);
  const delivery: DeliveryStores = {
    queue,
    processing: pgEventProcessingStore(database, queue),
    recorder: pgDeliveryRecorder(database),
    queries: pgDeliveryQueries(database),
    budgets: new PgBudgetStore(database),
  };
  return {
    delivery,
    tenants: pgTenantStore(db),
    sources: pgSourceStore(db),
    rules: pgRuleStore(db),
    audit: pgAuditStore(db),
    auditChain: pgChainStore(db),
    /** One audit row in its own transaction (the pruner's `audit.pruned`). */
    appendAudit: async (entry: AuditEntry) => {
      await db.transaction((tx) => appendAuditPg(tx, entry));
    },
    lineage: pgLineageStore(db),
    retention: pgRetentionStore(db),
    sharedTokens: pgSharedTokenStore(db),
  } satisfies Partial<Stores>;
}

export type PgStores = ReturnType<typeof pgStores>;
