import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Sessions } from '../crypto/sessions.js';
import { jsonBody } from '../http/middleware.js';
import { ADMIN_BODY_LIMIT, json, jsonRequest, problems, SESSION_SECURITY } from '../http/openapi.js';
import type { Clock } from '../lib/clock.js';
import { notFound } from '../lib/errors.js';
import { type AppEnv, requireSession } from '../sessions/require-session.js';
import type { TenantStore } from '../tenants/store.js';
import { backtest, MAX_BACKTEST_EVENTS, type RecentEvents } from './backtest.js';
import { dryRun } from './dry-run.js';
import { createRule, deleteRule, getRuleInOrg, type RulesDeps, ruleView, updateRule } from './manage.js';
import { RuleBodySchema } from './schemas.js';

const RuleView = z
  .object({ id: z.string(), version: z.number().int(), createdAt: z.string(), updatedAt: z.string() })
  .passthrough()
  .openapi('StoredRule');
const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) });
const VersionParam = IdParam.extend({
  n: z.coerce
    .number()
    .int()
    .min(1)
    .openapi({ param: { name: 'n', in: 'path' }, type: 'integer' }),
});
const VersionInfo = z.object({
  version: z.number().int(),
  createdAt: z.string(),
  createdBy: z.record(z.string(), z.unknown()),
});
const TestBody = z
  .strictObject({
    event: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'The event, as a source would send it (a dry run)' }),
    sourceId: z.string().min(1).optional(),
    rule: RuleBodySchema.optional(),
    recent: z.number().int().min(1).max(MAX_BACKTEST_EVENTS).optional().openapi({
      description: 'A backtest: run `rule` against the org’s last N stored events of its source',
    }),
  })
  .superRefine((b, ctx) => {
    if (b.event === undefined && b.recent === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['event'],
        message: 'give an event (dry run) or recent: N (backtest)',
      });
    if (b.event !== undefined && b.recent !== undefined)
      ctx.addIssue({ code: 'custom', path: ['recent'], message: 'give either event or recent, not both' });
    if (b.recent !== undefined && b.rule === undefined)
      ctx.addIssue({ code: 'custom', path: ['rule'], message: 'a backtest runs a draft: give rule' });
  })
  .openapi('RuleTest');
const DryRunResult = z
  .object({
    matches: z.array(z.record(z.string(), z.unknown())),
    patches: z.array(z.record(z.string(), z.unknown())),
    misses: z.array(z.record(z.string(), z.unknown())),
  })
  .openapi('RuleTestResult');
const BacktestResult = z
  .object({
    backtest: z.object({
      considered: z.number().int(),
      matched: z.number().int(),
      missed: z.number().int(),
      attributes: z.array(
        z.object({ name: z.string(), events: z.number().int(), sampleValues: z.array(z.string()) }),
      ),
      samples: z.object({
        matched: z.array(
          z.object({
            eventId: z.string(),
            receivedAt: z.string(),
            attributes: z.record(z.string(), z.string()),
          }),
        ),
        missed: z.array(
          z.object({ eventId: z.string(), receivedAt: z.string(), reasons: z.array(z.string()) }),
        ),
      }),
    }),
  })
  .openapi('RuleBacktestResult');

const iso = (ms: number) => new Date(ms).toISOString();

export function registerRuleRoutes(
  app: OpenAPIHono<AppEnv>,
  deps: RulesDeps & { sessions: Sessions; tenants: TenantStore; clock: Clock; eventQueries: RecentEvents },
): void {
  const tags = ['rules'];
  const viewer = requireSession(deps, 'viewer');
  const admin = requireSession(deps, 'admin');
  const body = jsonBody(ADMIN_BODY_LIMIT);

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rules',
      tags,
      summary: 'The org’s rules (current versions)',
      security: SESSION_SECURITY,
      middleware: [viewer] as const,
      responses: { 200: json(z.object({ items: z.array(RuleView) }), 'Rules'), ...problems(401) },
    }),
    async (c) => c.json({ items: (await deps.rules.list(c.get('ctx').tenant.orgId)).map(ruleView) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/rules',
      tags,
      summary: 'Create a rule (version 1)',
      security: SESSION_SECURITY,
      middleware: [admin, body] as const,
      request: jsonRequest(RuleBodySchema),
      responses: { 201: json(RuleView, 'Created'), ...problems(401, 403, 413, 415, 422) },
    }),
    async (c) => c.json(await createRule(deps, c.get('ctx'), c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/rules/test',
      tags,
      summary: 'Dry run: which rules match an event, the PATCH bodies they would send, and why others miss',
      description:
        'With `rule`, only that unsaved rule is tried; without, the org’s stored rules. No Genesys call, nothing stored.',
      security: SESSION_SECURITY,
      middleware: [viewer, body] as const,
      request: jsonRequest(TestBody),
      responses: {
        200: json(z.union([DryRunResult, BacktestResult]), 'What would happen'),
        ...problems(401, 413, 415, 422),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const ctx = c.get('ctx');
      if (input.recent !== undefined && input.rule) {
        const recentEvents = deps.eventQueries;
        const result = await backtest({ ...deps, recentEvents }, ctx, {
          ...input,
          rule: input.rule,
          recent: input.recent,
        });
        return c.json({ backtest: result }, 200);
      }
      return c.json(await dryRun(deps, ctx, { ...input, event: input.event ?? {} }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rules/{id}',
      tags,
      summary: 'A rule’s current version',
      security: SESSION_SECURITY,
      middleware: [viewer] as const,
      request: { params: IdParam },
      responses: { 200: json(RuleView, 'The rule'), ...problems(401, 404) },
    }),
    async (c) => c.json(ruleView(await getRuleInOrg(deps, c.get('ctx'), c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/rules/{id}',
      tags,
      summary: 'Replace a rule (a new version when anything changed)',
      security: SESSION_SECURITY,
      middleware: [admin, body] as const,
      request: { params: IdParam, ...jsonRequest(RuleBodySchema) },
      responses: { 200: json(RuleView, 'The rule'), ...problems(401, 403, 404, 413, 415, 422) },
    }),
    async (c) =>
      c.json(await updateRule(deps, c.get('ctx'), c.req.valid('param').id, c.req.valid('json')), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/rules/{id}',
      tags,
      summary: 'Delete a rule (its versions stay readable)',
      security: SESSION_SECURITY,
      middleware: [admin] as const,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404) },
    }),
    async (c) => {
      await deleteRule(deps, c.get('ctx'), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rules/{id}/versions',
      tags,
      summary: 'Every saved version of a rule (also after it was deleted)',
      security: SESSION_SECURITY,
      middleware: [viewer] as const,
      request: { params: IdParam },
      responses: { 200: json(z.object({ items: z.array(VersionInfo) }), 'Versions'), ...problems(401, 404) },
    }),
    async (c) => {
      const list = await deps.rules.versions(c.get('ctx').tenant.orgId, c.req.valid('param').id);
      if (!list) throw notFound('No such rule in your org.');
      return c.json({ items: list.map((v) => ({ ...v, createdAt: iso(v.createdAt) })) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rules/{id}/versions/{n}',
      tags,
      summary: 'One saved version of a rule, exactly as it acted',
      security: SESSION_SECURITY,
      middleware: [viewer] as const,
      request: { params: VersionParam },
      responses: {
        200: json(
          VersionInfo.extend({ id: z.string(), rule: z.record(z.string(), z.unknown()) }),
          'The version',
        ),
        ...problems(401, 404, 422),
      },
    }),
    async (c) => {
      const { id, n } = c.req.valid('param');
      const v = await deps.rules.version(c.get('ctx').tenant.orgId, id, n);
      if (!v) throw notFound('No such rule version in your org.');
      return c.json(
        { id, version: v.version, createdAt: iso(v.createdAt), createdBy: v.createdBy, rule: v.body },
        200,
      );
    },
  );
}
