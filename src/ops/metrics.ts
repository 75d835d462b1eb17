import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics, one registry per app instance (never prom-client's global one, so two
 * apps in one test process do not share counters). Later features add their series here.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly genesysCalls: Counter<'operation' | 'status'>;
  readonly genesysCallDuration: Histogram<'operation'>;
  readonly tokenFetches: Counter<'outcome'>;
  readonly ingestEvents: Counter<'outcome'>;
  readonly ingestRefused: Counter<'reason'>;
  readonly patches: Counter<'outcome'>;
  readonly auditExportedRows: Counter<'format'>;
  readonly prunedRows: Counter<'table'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'relay_http_request_duration_seconds',
      help: 'Latency of HTTP requests served, by route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    genesysCalls: new Counter({
      name: 'relay_genesys_calls_total',
      help: 'Requests sent to Genesys Cloud, by operation and HTTP status (or "error" for network failures).',
      labelNames: ['operation', 'status'],
      registers: [registry],
    }),
    genesysCallDuration: new Histogram({
      name: 'relay_genesys_call_duration_seconds',
      help: 'Latency of requests to Genesys Cloud.',
      labelNames: ['operation'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    tokenFetches: new Counter({
      name: 'relay_genesys_token_fetches_total',
      help: 'Client-credentials token requests, by outcome.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    ingestEvents: new Counter({
      name: 'relay_events_received_total',
      help: 'Events answered 202 at ingest: accepted (new) or duplicate (a repeated webhook-id / Idempotency-Key).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    prunedRows: new Counter({
      name: 'relay_retention_pruned_rows_total',
      help: 'Rows deleted by retention, by table.',
      labelNames: ['table'],
      registers: [registry],
    }),
    auditExportedRows: new Counter({
      name: 'relay_audit_exported_rows_total',
      help: 'Audit rows written to export streams (read only as fast as clients take them).',
      labelNames: ['format'],
      registers: [registry],
    }),
    patches: new Counter({
      name: 'relay_patches_total',
      help: 'Delivery outcomes: applied, a skip reason, retrying, failed.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    ingestRefused: new Counter({
      name: 'relay_ingest_refused_total',
      help: 'Ingest requests refused (nothing stored), by reason.',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}

/** Hooks for `GenesysClient`: every call by operation and status, every token fetch by outcome. */
export function genesysMetricsHooks(metrics: Metrics) {
  return {
    onCall(operation: string, status: number | 'error', durationMs: number): void {
      metrics.genesysCalls.inc({ operation, status: String(status) });
      metrics.genesysCallDuration.observe({ operation }, durationMs / 1000);
    },
    onToken(_orgId: string, outcome: { kind: string }): void {
      metrics.tokenFetches.inc({ outcome: outcome.kind });
    },
  };
}

/**
 * Queue depth by status and the oldest unfinished job's age, read from the database once a scrape:
 * both gauges collect at once, so the second shares the first one's read.
 */
export function registerQueueGauges(
  metrics: Metrics,
  read: () => Promise<{ byStatus: Record<string, number>; oldestPendingAgeMs: number | null }>,
): void {
  let inFlight: ReturnType<typeof read> | undefined;
  const probe = () => {
    inFlight ??= read().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  new Gauge({
    name: 'relay_queue_jobs',
    help: 'Jobs in the delivery queue, by status.',
    labelNames: ['status'],
    registers: [metrics.registry],
    async collect() {
      const { byStatus } = await probe();
      for (const status of ['pending', 'running', 'succeeded', 'failed'])
        this.set({ status }, byStatus[status] ?? 0);
    },
  });
  new Gauge({
    name: 'relay_queue_oldest_pending_age_seconds',
    help: 'Age of the oldest pending or running job (0 when there is none).',
    registers: [metrics.registry],
    async collect() {
      this.set(((await probe()).oldestPendingAgeMs ?? 0) / 1000);
    },
  });
}
