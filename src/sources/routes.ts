import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Sessions } from '../crypto/sessions.js';
import { jsonBody } from '../http/middleware.js';
import { ADMIN_BODY_LIMIT, json, jsonRequest, problems, SESSION_SECURITY } from '../http/openapi.js';
import type { Clock } from '../lib/clock.js';
import { type AppEnv, requireSession } from '../sessions/require-session.js';
import type { TenantStore } from '../tenants/store.js';
import { createSource, deleteSource, rotateSource, type SourcesDeps, sourceView } from './manage.js';

const SourceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    auth: z.enum(['standard-webhooks', 'bearer']),
    ingestUrl: z.string(),
    createdAt: z.string(),
    rotatedAt: z.string().nullable(),
    previousSecretValidUntil: z.string().nullable(),
  })
  .openapi('Source');
const SourceWithSecret = SourceSchema.extend({
  secret: z.string().openapi({ description: 'Shown once: store it in the sending system now.' }),
}).openapi('SourceWithSecret');
const NewSource = z
  .strictObject({ name: z.string().trim().min(1).max(100), auth: z.enum(['standard-webhooks', 'bearer']) })
  .openapi('NewSource');
const IdParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'src_01…' }),
});

export function registerSourceRoutes(
  app: OpenAPIHono<AppEnv>,
  deps: SourcesDeps & { sessions: Sessions; tenants: TenantStore; clock: Clock },
): void {
  const tags = ['sources'];
  const admin = requireSession(deps, 'admin');
  const viewer = requireSession(deps, 'viewer');

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/sources',
      tags,
      summary: 'Create a source; its secret is shown once',
      security: SESSION_SECURITY,
      middleware: [admin, jsonBody(ADMIN_BODY_LIMIT)] as const,
      request: jsonRequest(NewSource),
      responses: { 201: json(SourceWithSecret, 'Created'), ...problems(401, 403, 413, 415, 422) },
    }),
    async (c) => c.json(await createSource(deps, c.get('ctx'), c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/sources',
      tags,
      summary: 'The org’s sources (never their secrets)',
      security: SESSION_SECURITY,
      middleware: [viewer] as const,
      responses: { 200: json(z.object({ items: z.array(SourceSchema) }), 'Sources'), ...problems(401) },
    }),
    async (c) => {
      const rows = await deps.sources.list(c.get('ctx').tenant.orgId);
      return c.json({ items: rows.map((s) => sourceView(deps.config, s)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/sources/{id}/rotate',
      tags,
      summary: 'Rotate the secret; the previous one keeps working for 24 h',
      security: SESSION_SECURITY,
      middleware: [admin] as const,
      request: { params: IdParam },
      responses: { 200: json(SourceWithSecret, 'Rotated'), ...problems(401, 403, 404) },
    }),
    async (c) => c.json(await rotateSource(deps, c.get('ctx'), c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/sources/{id}',
      tags,
      summary: 'Delete a source: its ingest URL stops accepting at once',
      security: SESSION_SECURITY,
      middleware: [admin] as const,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404) },
    }),
    async (c) => {
      await deleteSource(deps, c.get('ctx'), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );
}
