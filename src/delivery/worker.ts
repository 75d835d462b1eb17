import type { GenesysClient } from '../genesys/client.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { JobQueue } from '../queue/queue.js';
import { Runner } from '../queue/runner.js';
import { MAX_ATTRIBUTE_VALUE } from '../rules/dry-run.js';
import type { RuleStore } from '../rules/store.js';
import type { TenantStore } from '../tenants/store.js';
import type { BudgetStore } from './budget.js';
import { ConversationCache } from './conversation-cache.js';
import { type DeliveryDeps, deliveryHandler, FOLD_LIMIT } from './deliver.js';
import type { DeliveryQueries } from './deliveries-store.js';
import type { EventProcessingStore } from './events-store.js';
import { IngestFirst } from './ingest-first.js';
import { DELIVER_JOB, EventProcessor } from './process-events.js';
import type { DeliveryRecorder } from './recorder-store.js';

/** Where delivery keeps its state; one place per backend builds them (src/db/sqlite-stores.ts). */
export interface DeliveryStores {
  queue: JobQueue;
  processing: EventProcessingStore;
  recorder: DeliveryRecorder;
  queries: DeliveryQueries;
  /** Each org's request budget: in memory on SQLite, one row per org shared by all instances on PostgreSQL. */
  budgets: BudgetStore;
}

export interface DeliveryWorkerDeps {
  stores: DeliveryStores;
  genesys: GenesysClient;
  tenants: TenantStore;
  rules: RuleStore;
  clock: Clock;
  logger: Logger;
  concurrency?: number;
  pollMs?: number;
  onOutcome?: (outcome: string) => void;
  /** Orgs whose jobs wait whatever their budget (unlicensed). */
  paused?: () => readonly string[];
  /** Explains a refused conversation read by the divisions the grant lacks. */
  divisions?: DeliveryDeps['divisions'];
  /** Delivery gives way to ingest when both need the event loop (ingest-first.ts; SQLite). */
  ingestFirst?: boolean;
}

/**
 * The delivery side of the process: pending events become jobs (the processor, woken by ingest),
 * and jobs become PATCHes (the runner, bounded, fair across orgs, skipping orgs without budget).
 */
export class DeliveryWorker {
  readonly queue: JobQueue;
  readonly budgets: BudgetStore;
  readonly processor: EventProcessor;
  readonly runner: Runner;
  private processing: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly ingestFirst: IngestFirst | undefined;
  private governor: NodeJS.Timeout | undefined;

  constructor(private readonly deps: DeliveryWorkerDeps) {
    const concurrency = deps.concurrency ?? 64;
    const ingestFirst = deps.ingestFirst ? new IngestFirst(concurrency) : undefined;
    this.ingestFirst = ingestFirst;
    this.queue = deps.stores.queue;
    this.budgets = deps.stores.budgets;
    this.processor = new EventProcessor({
      store: deps.stores.processing,
      rules: deps.rules,
      clock: deps.clock,
      logger: deps.logger,
      valueLimit: async (orgId) =>
        (await deps.tenants.get(orgId))?.settings.maxAttributeValueLength ?? MAX_ATTRIBUTE_VALUE,
    });
    this.runner = new Runner({
      queue: this.queue,
      handlers: {
        [DELIVER_JOB]: deliveryHandler({
          genesys: deps.genesys,
          tenants: deps.tenants,
          budgets: this.budgets,
          recorder: deps.stores.recorder,
          clock: deps.clock,
          conversations: new ConversationCache(),
          logger: deps.logger,
          ...(deps.onOutcome ? { onOutcome: deps.onOutcome } : {}),
          ...(deps.divisions ? { divisions: deps.divisions } : {}),
        }),
      },
      clock: deps.clock,
      logger: deps.logger,
      concurrency,
      fold: { [DELIVER_JOB]: FOLD_LIMIT },
      ...(ingestFirst ? { limit: () => ingestFirst.limit() } : {}),
      pausedOrgs: () => {
        const budget = this.budgets.paused(deps.clock.now());
        const other = deps.paused?.() ?? [];
        return other.length === 0 ? budget : [...budget, ...other];
      },
    });
  }

  /** Resolves once jobs a stopped process left running are back in their lanes and work has begun. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const recovered = await this.queue.recoverAbandoned(this.deps.clock.now());
    if (recovered > 0)
      this.deps.logger.warn('recovered deliveries interrupted by a stop', { jobs: recovered });
    if (!this.running) return;
    this.runner.start();
    if (this.ingestFirst) {
      const governor = this.ingestFirst;
      if (this.governor) clearInterval(this.governor);
      this.governor = setInterval(() => governor.step(), IngestFirst.EVERY_MS);
      this.governor.unref();
    }
    this.wake();
  }

  /** Ingest committed events: they are processed now, and delivery may give way (ingestFirst). */
  accepted(): void {
    this.ingestFirst?.noteAccepted();
    this.wake();
  }

  /** New events were accepted: process them now (runs are never concurrent; one follows if needed). */
  wake(): void {
    if (!this.running) return;
    if (this.processing) {
      this.again = true;
      return;
    }
    this.processing = this.processor
      .drain()
      .then(() => undefined)
      .catch((err: unknown) => this.deps.logger.error('event processing failed', { err }))
      .finally(() => {
        this.processing = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        } else this.schedule();
      });
  }

  /** The tenant's `delivery` block: backlog, last applied, last rate limited. */
  async stats(orgId: string, now: number) {
    const backlog = await this.queue.backlog(orgId);
    const { queries } = this.deps.stores;
    const [applied, limited] = await Promise.all([
      queries.lastApplied(orgId),
      queries.lastRateLimited(orgId),
    ]);
    return {
      pending: backlog.pending,
      oldestPendingAgeMs:
        backlog.oldestCreatedAt === null ? null : Math.max(0, now - backlog.oldestCreatedAt),
      lastAppliedAt: applied === null ? null : new Date(applied).toISOString(),
      lastRateLimitedAt: limited === null ? null : new Date(limited).toISOString(),
    };
  }

  /** Stops taking work and waits for what is in flight. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.governor) clearInterval(this.governor);
    await this.processing;
    await this.runner.stop();
  }

  private schedule(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), this.deps.pollMs ?? 1_000);
    this.timer.unref();
  }
}
