import { signingKey } from './audit/chain.js';
import { AuditSeal } from './audit/checkpoints.js';
import type { AuditStore, ChainStore } from './audit/store.js';
import type { Config } from './config.js';
import type { Keys } from './crypto/keys.js';
import { createSealer } from './crypto/secrets.js';
import { createSessions } from './crypto/sessions.js';
import type { Storage } from './db/stores.js';
import { DeliveryWorker } from './delivery/worker.js';
import type { EventQueries } from './events/store.js';
import { GenesysClient, type GenesysClientOptions } from './genesys/client.js';
import { sealedSharedTokens } from './genesys/shared-tokens.js';
import { SourceCache } from './ingest/source-cache.js';
import type { EventStore } from './ingest/store.js';
import type { Clock } from './lib/clock.js';
import type { Logger } from './lib/logger.js';
import type { LineageStore } from './lineage/store.js';
import { createMetrics, genesysMetricsHooks, type Metrics, registerQueueGauges } from './ops/metrics.js';
import { Pruner } from './retention/pruner.js';
import type { RulesDeps } from './rules/manage.js';
import type { SourcesDeps } from './sources/manage.js';
import { cachedTenants } from './tenants/cached-store.js';
import type { TenancyDeps } from './tenants/deps.js';
import { DivisionCoverageCheck } from './tenants/division-coverage.js';
import { grantHealth } from './tenants/grant-health.js';
import { InstallProgress } from './tenants/install-progress.js';
import { Licensing } from './tenants/licensing.js';
import { loadManifest } from './tenants/manifest.js';

/** Everything the app uses; `main.ts` builds the real one, tests build theirs with the same function. */
export interface AppDeps extends TenancyDeps, SourcesDeps, RulesDeps {
  storage: Storage;
  metrics: Metrics;
  audit: AuditStore;
  events: EventStore;
  delivery: DeliveryWorker;
  eventQueries: EventQueries;
  wakeDelivery: () => void;
  licensing: Licensing;
  isUnlicensed: (orgId: string) => boolean;
  /** Retention: started by main.ts beside delivery. */
  pruner: Pruner;
  lineage: LineageStore;
  /** Checkpoints and verification of each org's audit hash chain. */
  auditSeal: AuditSeal;
  auditChain: ChainStore;
}

export function buildDeps(input: {
  config: Config;
  storage: Storage;
  logger: Logger;
  clock: Clock;
  keys: Keys;
  metrics?: Metrics;
  /** Tests may pass their own (e.g. short timeouts). */
  genesysDispatcher?: GenesysClientOptions['dispatcher'];
}): AppDeps {
  const { config, storage, logger, clock, keys } = input;
  const metrics = input.metrics ?? createMetrics();
  const sealer = createSealer(keys);
  // Ingest wakes delivery, which is built below from the same stores.
  const stores = storage.stores({
    dedupWindowMs: config.ingest.dedupWindowMs,
    onAccepted: () => delivery.accepted(),
  });
  const { sources, rules } = stores;
  const tenants = cachedTenants(stores.tenants);
  const hooks = genesysMetricsHooks(metrics);
  const genesys = new GenesysClient({
    baseUrl: config.genesys.baseUrl,
    clock,
    ...(input.genesysDispatcher ? { dispatcher: input.genesysDispatcher } : {}),
    // The org's stored grant, opened only when a token must be fetched.
    credentials: async (orgId) => {
      const t = await tenants.get(orgId);
      if (!t) return undefined;
      return {
        environment: t.environment,
        clientId: t.grant.clientId,
        clientSecret: await sealer.open(orgId, t.grant.secretSealed),
      };
    },
    onCall: hooks.onCall,
    ...(stores.sharedTokens ? { sharedTokens: sealedSharedTokens(stores.sharedTokens, sealer) } : {}),
    onToken: (orgId, outcome) => {
      hooks.onToken(orgId, outcome);
      const health = grantHealth(outcome, clock.now());
      if (!health) return;
      tenants.recordGrantHealth(orgId, health).catch((err: unknown) => {
        logger.error('could not record grant health', { orgId, err });
      });
    },
  });
  const licensing = new Licensing({ tenants, genesys, config, clock, logger });
  const divisionCoverage = new DivisionCoverageCheck({ tenants, genesys, clock, logger });
  const delivery = new DeliveryWorker({
    stores: stores.delivery,
    genesys,
    tenants,
    rules,
    clock,
    logger,
    concurrency: config.delivery.concurrency,
    // SQLite only: on PostgreSQL it costs the 200-org fairness (ingest-first.ts has the figures).
    ingestFirst: storage.backend === 'sqlite',
    onOutcome: (outcome) => metrics.patches.inc({ outcome }),
    paused: () => licensing.unlicensed(),
    divisions: divisionCoverage,
  });
  registerQueueGauges(metrics, async () => {
    try {
      const d = await delivery.queue.depth();
      return {
        byStatus: d.byStatus,
        oldestPendingAgeMs: d.oldestCreatedAt === null ? null : clock.now() - d.oldestCreatedAt,
      };
    } catch {
      // Not migrated yet, or the database is gone: /metrics still answers (/readyz says why).
      return { byStatus: {}, oldestPendingAgeMs: null };
    }
  });
  const chainStore = stores.auditChain;
  const auditSeal = new AuditSeal({
    store: chainStore,
    key: signingKey(keys.derive('audit-signing-v1')),
    clock,
  });
  return {
    config,
    licensing,
    divisionCoverage,
    installProgress: new InstallProgress(clock),
    isUnlicensed: (orgId: string) => licensing.isUnlicensed(orgId),
    sources,
    auditSeal,
    auditChain: chainStore,
    rules,
    sourceCache: new SourceCache({ sources, sealer, clock }),
    events: stores.events,
    delivery,
    eventQueries: stores.eventQueries,
    wakeDelivery: () => delivery.wake(),
    deliveryStats: (orgId, now) => delivery.stats(orgId, now),
    clock,
    logger,
    storage,
    metrics,
    genesys,
    tenants,
    audit: stores.audit,
    lineage: stores.lineage,
    pruner: new Pruner({
      store: stores.retention,
      chain: {
        checkpointDue: () => auditSeal.checkpointDue(),
        anchorCut: (orgId, cut) => auditSeal.anchorCut(orgId, cut),
        dropCheckpointsBefore: (orgId, seq) => chainStore.dropCheckpointsBefore(orgId, seq),
      },
      appendAudit: stores.appendAudit,
      clock,
      logger,
      metrics,
      afterRun: () => storage.optimize(),
    }),
    sealer,
    sessions: createSessions(keys),
    manifest: loadManifest(),
  };
}
