import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { bearerToken, requireSession } from '../http/auth.js';
import { type AppEnv, jsonBody } from '../http/middleware.js';
import {
  ADMIN_BODY_LIMIT,
  GENESYS_USER_SECURITY,
  json,
  jsonRequest,
  problems,
  SESSION_SECURITY,
} from '../http/openapi.js';
import { createSession } from '../sessions/create-session.js';
import type { TenancyDeps } from './deps.js';
import { installTenant } from './install.js';
import { replaceGrant, uninstall, updateSettings } from './manage.js';
import {
  EnvironmentBody,
  GrantBody,
  InstallBody,
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
      request: jsonRequest(InstallBody),
      responses: {
        200: json(TenantSchema, 'Already installed (nothing changed)'),
        201: json(TenantSchema, 'Installed'),
        ...problems(400, 401, 403, 409, 413, 415, 422, 502),
      },
    }),
    async (c) => {
      const userToken = bearerToken(c, 'a Genesys Cloud user token');
      const { tenant, created } = await installTenant(deps, { ...c.req.valid('json'), userToken });
      return c.json(tenantView(tenant, 'admin'), created ? 201 : 200);
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
    (c) => {
      const ctx = c.get('ctx');
      return c.json(tenantView(ctx.tenant, ctx.role, deps.deliveryStats?.(ctx.tenant.orgId, ctx.now)), 200);
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
      return c.json(tenantView(tenant, ctx.role, deps.deliveryStats?.(tenant.orgId, ctx.now)), 200);
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
      return c.json(tenantView(tenant, ctx.role, deps.deliveryStats?.(tenant.orgId, ctx.now)), 200);
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
      await uninstall(
        deps,
        c.get('ctx'),
        c.req.header('x-genesys-token')?.replace(/^Bearer\s+/i, '') || undefined,
      );
      return c.body(null, 204);
    },
  );
}
