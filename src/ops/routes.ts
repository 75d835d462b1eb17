import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Storage } from '../db/stores.js';
import { ProblemSchema } from '../http/openapi.js';
import { problemBody } from '../http/problem.js';
import { AppError } from '../lib/errors.js';
import type { AppEnv } from '../sessions/require-session.js';
import type { Metrics } from './metrics.js';

const Health = z.object({ status: z.literal('ok') }).openapi('Health');
const problemContent = { 'application/problem+json': { schema: ProblemSchema } };

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['operations'],
  summary: 'Liveness: 200 while the process serves',
  responses: { 200: { description: 'Serving', content: { 'application/json': { schema: Health } } } },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['operations'],
  summary: 'Readiness: the database answers and every migration is applied',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: Health } } },
    503: { description: 'Not ready', content: problemContent },
  },
});

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics',
  responses: {
    200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
  },
});

export function registerOpsRoutes(
  app: OpenAPIHono<AppEnv>,
  deps: { storage: Pick<Storage, 'readiness'>; metrics: Metrics },
): void {
  app.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(readyz, async (c) => {
    const state = await deps.storage.readiness();
    if (state.ready) return c.json({ status: 'ok' as const }, 200);
    const err = new AppError('service_unavailable', `Not ready: ${state.reason}.`);
    return c.json(problemBody(err, c.get('requestId')), 503, { 'content-type': 'application/problem+json' });
  });

  app.openapi(metricsRoute, async (c) => {
    const text = await deps.metrics.registry.metrics();
    return c.text(text, 200, { 'content-type': deps.metrics.registry.contentType });
  });
}
