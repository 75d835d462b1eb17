import { appendAuditPg, pgAuditStore, pgChainStore } from '../../audit/pg-store.js';
import type { AuditEntry } from '../../audit/types.js';
import { pgRuleStore } from '../../rules/pg-store.js';
import { pgSourceStore } from '../../sources/pg-store.js';
import { pgTenantStore } from '../../tenants/pg-store.js';
import type { PgDatabase } from './client.js';

/**
 * Every store of the PostgreSQL backend, built in this one place, with the same keys as
 * `sqliteStores` for the stores that exist so far (the rest follow; not wired into deps yet).
 */
export function pgStores(database: PgDatabase) {
  const { db } = database;
  return {
    tenants: pgTenantStore(db),
    sources: pgSourceStore(db),
    rules: pgRuleStore(db),
    audit: pgAuditStore(db),
    auditChain: pgChainStore(db),
    /** One audit row in its own transaction (the pruner's `audit.pruned`). */
    appendAudit: async (entry: AuditEntry) => {
      await db.transaction((tx) => appendAuditPg(tx, entry));
    },
  };
}

export type PgStores = ReturnType<typeof pgStores>;
