import { appendAuditPg, pgAuditStore, pgChainStore } from '../../audit/pg-store.js';
import type { AuditEntry } from '../../audit/types.js';
import { PgBudgetStore } from '../../delivery/budget-pg-store.js';
import { pgDeliveryQueries } from '../../delivery/deliveries-pg-store.js';
import { pgEventProcessingStore } from '../../delivery/events-pg-store.js';
import { pgDeliveryRecorder } from '../../delivery/recorder-pg-store.js';
import type { DeliveryStores } from '../../delivery/worker.js';
import { pgEventQueries } from '../../events/pg-store.js';
import { pgSharedTokenStore } from '../../genesys/tokens-pg-store.js';
import { pgEventStore } from '../../ingest/pg-store.js';
import { pgLineageStore } from '../../lineage/pg-store.js';
import { PgJobQueue } from '../../queue/pg-store.js';
import { pgRetentionStore } from '../../retention/pg-store.js';
import { pgRuleStore } from '../../rules/pg-store.js';
import { pgSourceStore } from '../../sources/pg-store.js';
import { pgTenantStore } from '../../tenants/pg-store.js';
import type { IngestOptions, Storage, Stores } from '../stores.js';
import type { PgDatabase } from './client.js';

/** The PostgreSQL backend: any number of instances share the database. */
export function pgStorage(database: PgDatabase): Storage {
  return {
    backend: 'postgres',
    stores: (ingest) => pgStores(database, ingest),
    readiness: () => database.readiness(),
    // Autovacuum keeps PostgreSQL's statistics.
    optimize: async () => {},
    close: () => database.close(),
  };
}

/** Every store of the PostgreSQL backend, built in this one place. */
export function pgStores(database: PgDatabase, ingest: IngestOptions): Stores {
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
    events: pgEventStore(database, ingest),
    eventQueries: pgEventQueries(database, delivery.queries),
    sources: pgSourceStore(db),
    rules: pgRuleStore(db),
    audit: pgAuditStore(db),
    auditChain: pgChainStore(db),
    appendAudit: async (entry: AuditEntry) => {
      await db.transaction((tx) => appendAuditPg(tx, entry));
    },
    lineage: pgLineageStore(db),
    retention: pgRetentionStore(db),
    sharedTokens: pgSharedTokenStore(db),
  };
}
