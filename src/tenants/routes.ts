import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { bearerToken } from '../http/auth.js';
import { jsonBody } from '../http/middleware.js';
import {
  ADMIN_BODY_LIMIT,
  GENESYS_USER_SECURITY,
  json,
  jsonRequest,
  problems,
  SESSION_SECURITY,
} from '../http/openapi.js';
import { AppError } from '../lib/errors.js';
import { createSession } from '../sessions/create-session.js';
import { type AppEnv, requireSession } from '../sessions/require-session.js';
import type { TenancyDeps } from './deps.js';
import { installTenant } from './install.js';
import type { ProgressReporter } from './install-progress.js';
import { regrantDivisions, replaceGrant, uninstall, updateSettings } from './manage.js';
import {
  EnvironmentBody,
  GrantBody,
  InstallBody,
  InstallProgressSchema,
  SessionSchema,
  SettingsPatch,
  TenantSchema,
} from './schemas.js';
import { tenantView } from './view.js';

const tags = ['tenant'];

export function registerTenantRoutes(app: OpenAPIHono<AppEnv>, deps: TenancyDeps): void {
  const body = jsonBody(ADMIN_BODY_LIMIT);
  const viewer = requireSession(deps, 'viewer');
  const admin = requireSession(deps, 'admin');

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/session',
      tags: ['session'],
      summary: 'Exchange a Genesys Cloud user token for an admin session',
      security: GENESYS_USER_SECURITY,
      middleware: [body] as const,
      request: jsonRequest(EnvironmentBody),
      responses: {
        200: json(SessionSchema, 'The session'),
        ...problems(400, 401, 403, 404, 413, 415, 422, 502),
      },
    }),
    async (c) => {
      const token = bearerToken(c, 'a Genesys Cloud user token');
      return c.json(await createSession(deps, c.req.valid('json').environment, token), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/install',
      tags,
      summary: 'Install into the admin’s org: verify a given grant, or create the role and OAuth client',
      security: GENESYS_USER_SECURITY,
      middleware: [body] as const,
      description:
        'Creating the OAuth client can wait up to 60 s for Genesys to let the new role be used; send your own `x-request-id` and read `GET /v1/install/progress/{requestId}` meanwhile. 504 when the wait runs out (nothing is kept; install again).',
      request: jsonRequest(InstallBody),
      responses: {
        200: json(TenantSchema, 'Already installed (nothing changed)'),
        201: json(TenantSchema, 'Installed'),
        ...problems(400, 401, 403, 409, 413, 415, 422, 502, 504),
      },
    }),
    async (c) => {
      const userToken = bearerToken(c, 'a Genesys Cloud user token');
      const requestId = c.get('requestId');
      const progress = deps.installProgress;
      const report: ProgressReporter = (step, message, wait) =>
        progress?.report(requestId, step, message, wait);
      try {
        const { tenant, created } = await installTenant(deps, { ...c.req.valid('json'), userToken }, report);
        report('done', created ? 'Installed.' : 'Already installed.');
        return c.json(tenantView(tenant, 'admin'), created ? 201 : 200);
      } catch (err) {
        report('failed', err instanceof Error ? err.message : 'The install failed.');
        throw err;
      }
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/install/progress/{requestId}',
      tags,
      summary: 'Where a running install is (for the page that started it)',
      description:
        'Keyed by the `x-request-id` the installing page chose for its `POST /v1/install`; holds a step, a sentence and the wait so far, nothing else. Kept 10 minutes.',
      request: { params: z.object({ requestId: z.string().min(8).max(128) }) },
      responses: { 200: json(InstallProgressSchema, 'The progress'), ...problems(404) },
    }),
    (c) => {
      const found = deps.installProgress?.get(c.req.valid('param').requestId);
      if (!found) throw new AppError('not_found', 'No install with this request id is known here.');
      return c.json({ ...found, startedAt: new Date(found.startedAt).toISOString() }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tenant',
      tags,
      summary: 'The org’s installation, settings, grant health and delivery state',
      security: SESSION_SECURITY,
      middleware: [viewer] as const,
      responses: { 200: json(TenantSchema, 'The tenant'), ...problems(401) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      return c.json(
        tenantView(ctx.tenant, ctx.role, await deps.deliveryStats?.(ctx.tenant.orgId, ctx.now)),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/tenant',
      tags,
      summary: 'Change the org’s settings',
      security: SESSION_SECURITY,
      middleware: [admin, body] as const,
      request: jsonRequest(SettingsPatch),
      responses: { 200: json(TenantSchema, 'The tenant'), ...problems(401, 403, 413, 415, 422) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const tenant = await updateSettings(deps, ctx, c.req.valid('json').settings);
      return c.json(tenantView(tenant, ctx.role, await deps.deliveryStats?.(tenant.orgId, ctx.now)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/grant',
      tags,
      summary: 'Replace the client-credentials grant (verified with Genesys first)',
      security: SESSION_SECURITY,
      middleware: [admin, body] as const,
      request: jsonRequest(GrantBody),
      responses: { 200: json(TenantSchema, 'The tenant'), ...problems(401, 403, 413, 415, 422, 502) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const tenant = await replaceGrant(deps, ctx, c.req.valid('json'));
      return c.json(tenantView(tenant, ctx.role, await deps.deliveryStats?.(tenant.orgId, ctx.now)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/grant/divisions',
      tags,
      summary: 'Give the OAuth client we created its role in every division the org has now',
      description:
        'Client-credentials roles reach only the divisions they are granted in; divisions made after install are out of reach until this runs. Needs the admin’s Genesys user token in `X-Genesys-Token` (with `oauth:client:edit`). 409 for a client the org gave us.',
      security: SESSION_SECURITY,
      middleware: [admin] as const,
      responses: { 200: json(TenantSchema, 'The tenant'), ...problems(400, 401, 403, 409, 502, 504) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const tenant = await regrantDivisions(deps, ctx, genesysToken(c.req.header('x-genesys-token')));
      return c.json(tenantView(tenant, ctx.role, await deps.deliveryStats?.(tenant.orgId, ctx.now)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/tenant',
      tags,
      summary: 'Uninstall: delete the OAuth client we created and purge the org’s data',
      description:
        'When attribute-relay created the OAuth client, send the admin’s Genesys user token in `X-Genesys-Token`: it deletes the client and role (our own grant may not).',
      security: SESSION_SECURITY,
      middleware: [admin] as const,
      responses: { 204: { description: 'Uninstalled' }, ...problems(400, 401, 403, 502) },
    }),
    async (c) => {
      await uninstall(deps, c.get('ctx'), genesysToken(c.req.header('x-genesys-token')));
      return c.body(null, 204);
    },
  );
}

/** `X-Genesys-Token`, with or without a `Bearer ` prefix. */
const genesysToken = (header: string | undefined) => header?.replace(/^Bearer\s+/i, '') || undefined;
