import type { AuditStore, ChainStore } from '../audit/store.js';
import type { AuditEntry } from '../audit/types.js';
import type { DeliveryStores } from '../delivery/worker.js';
import type { EventQueries } from '../events/store.js';
import type { SharedTokenStore } from '../genesys/shared-tokens.js';
import type { EventStore } from '../ingest/store.js';
import type { LineageStore } from '../lineage/store.js';
import type { RetentionStore } from '../retention/store.js';
import type { RuleStore } from '../rules/store.js';
import type { SourceStore } from '../sources/store.js';
import type { TenantStore } from '../tenants/store.js';

/** Every store the features use: each backend builds all of them in one place. */
export interface Stores {
  tenants: TenantStore;
  sources: SourceStore;
  rules: RuleStore;
  events: EventStore;
  eventQueries: EventQueries;
  delivery: DeliveryStores;
  audit: AuditStore;
  auditChain: ChainStore;
  /** One audit row in its own transaction (the pruner's `audit.pruned`). */
  appendAudit(entry: AuditEntry): Promise<void>;
  lineage: LineageStore;
  retention: RetentionStore;
  /** One Genesys access token per org for every instance; none where one process owns the data. */
  sharedTokens?: SharedTokenStore | undefined;
}

/** What ingest's group commit needs from the app: the dedup window, and whom to wake. */
export interface IngestOptions {
  dedupWindowMs: number;
  onAccepted: () => void;
}

export type Readiness = { ready: true } | { ready: false; reason: string };

/**
 * A backend the app runs on: SQLite (one process, `DATABASE_PATH`) or PostgreSQL (any number of
 * instances, `DATABASE_URL`). Built by `main.ts` (or a test), opened and migrated.
 */
export interface Storage {
  readonly backend: 'sqlite' | 'postgres';
  stores(ingest: IngestOptions): Stores;
  /** Whether the database answers and every committed migration is applied (`/readyz`). */
  readiness(): Promise<Readiness>;
  /** Housekeeping after a retention run (SQLite refreshes the planner's statistics). */
  optimize(): Promise<void>;
  close(): Promise<void>;
}
