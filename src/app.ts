import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { registerAuditRoutes } from './audit/routes.js';
import type { AppDeps } from './deps.js';
import { registerEventRoutes } from './events/routes.js';
import { accessLog, requestId } from './http/middleware.js';
import { SECURITY_SCHEMES } from './http/openapi.js';
import { fromHttpException, problemResponse, zodFieldErrors } from './http/problem.js';
import { registerIngestRoute } from './ingest/routes.js';
import { AppError } from './lib/errors.js';
import type { Logger } from './lib/logger.js';
import { registerLineageRoute } from './lineage/routes.js';
import type { Metrics } from './ops/metrics.js';
import { registerOpsRoutes } from './ops/routes.js';
import { registerRuleRoutes } from './rules/routes.js';
import type { AppEnv } from './sessions/require-session.js';
import { registerSourceRoutes } from './sources/routes.js';
import { registerTenantRoutes } from './tenants/routes.js';
import { registerUiConfigRoute } from './ui/config-route.js';
import { registerUiRoutes } from './ui/static.js';

/**
 * A bare app with our middleware and error mapping but no routes: `createApp` adds the routes.
 * Exposed so tests can check the shared request machinery (body checks, 422 hook) on a probe route.
 */
export function createBaseApp(deps: { logger: Logger; metrics: Metrics }): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    // zod-openapi's validation hook: every problem at once, each with its path → 422.
    defaultHook: (result) => {
      if (!result.success)
        throw new AppError('validation_failed', 'The request does not validate.', {
          errors: zodFieldErrors(result.error),
        });
    },
  });
  app.use(requestId());
  app.use(accessLog(deps.logger, deps.metrics));
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        problemResponse(
          new AppError(
            'method_not_allowed',
            `${c.req.method} is not allowed here; use ${methods.join(', ')}.`,
            {
              headers: { allow: methods.join(', ') },
            },
          ),
          c.get('requestId'),
        ),
    }),
  );
  app.notFound((c) =>
    problemResponse(new AppError('not_found', `No route for ${c.req.path}.`), c.get('requestId')),
  );
  app.onError((err, c) => {
    const id = c.get('requestId');
    if (err instanceof AppError) return problemResponse(err, id);
    if (err instanceof HTTPException) return problemResponse(fromHttpException(err), id);
    // Lost here: log it in full with the request id, answer without internals.
    deps.logger.error('unhandled error', { requestId: id, err });
    return problemResponse(new AppError('internal', 'Something went wrong on our side.'), id);
  });
  return app;
}

export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = createBaseApp(deps);
  registerOpsRoutes(app, deps);
  registerTenantRoutes(app, deps);
  registerAuditRoutes(app, deps);
  registerSourceRoutes(app, deps);
  registerRuleRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerLineageRoute(app, deps);
  registerIngestRoute(app, deps);
  registerUiConfigRoute(app, deps);
  registerUiRoutes(app, deps);
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) {
    app.openAPIRegistry.registerComponent('securitySchemes', name, scheme);
  }
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'attribute-relay',
      version: '0.1.0',
      description: 'Events in, minimal Genesys Cloud participant-attribute PATCHes out, per org.',
    },
  });
  return app;
}
