import { notFound, validationFailed } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import type { SourceStore } from '../sources/store.js';
import type { RequestContext } from '../tenants/context.js';
import type { RuleBody } from './schemas.js';
import type { RuleStore, StoredRule } from './store.js';

export interface RulesDeps {
  rules: RuleStore;
  sources: SourceStore;
}

export function ruleView(r: StoredRule) {
  return {
    id: r.id,
    version: r.version,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
    ...r.body,
  };
}

/** A rule may listen to one of its org's sources only: anything else is a 422 on `sourceId`. */
export async function checkSourceOfOrg(
  deps: RulesDeps,
  ctx: RequestContext,
  sourceId: string | null | undefined,
  path = 'sourceId',
) {
  if (!sourceId) return;
  if (!(await deps.sources.get(ctx.tenant.orgId, sourceId))) {
    throw validationFailed([{ path, message: 'not a source of your org' }]);
  }
}

export async function getRuleInOrg(deps: RulesDeps, ctx: RequestContext, id: string): Promise<StoredRule> {
  const rule = await deps.rules.get(ctx.tenant.orgId, id);
  if (!rule) throw notFound('No such rule in your org.');
  return rule;
}

export async function createRule(deps: RulesDeps, ctx: RequestContext, body: RuleBody) {
  await checkSourceOfOrg(deps, ctx, body.sourceId);
  const id = newId('rule', ctx.now);
  const orgId = ctx.tenant.orgId;
  const rule = await deps.rules.create(orgId, id, body, ctx.now, ctx.actor, {
    orgId,
    at: ctx.now,
    kind: 'rule.created',
    actor: ctx.actor,
    ruleIds: [id],
    sourceId: body.sourceId ?? undefined,
    outcome: 'ok',
    detail: { version: 1, name: body.name },
  });
  return ruleView(rule);
}

const FIELDS = ['name', 'enabled', 'priority', 'sourceId', 'when', 'target', 'set'] as const;

/** PUT replaces the whole rule; the audit names the fields that changed. */
export async function updateRule(deps: RulesDeps, ctx: RequestContext, id: string, body: RuleBody) {
  const before = await getRuleInOrg(deps, ctx, id);
  await checkSourceOfOrg(deps, ctx, body.sourceId);
  const changed = FIELDS.filter((f) => JSON.stringify(before.body[f]) !== JSON.stringify(body[f]));
  if (changed.length === 0) return ruleView(before);
  const orgId = ctx.tenant.orgId;
  const rule = await deps.rules.update(orgId, id, body, ctx.now, ctx.actor, (version) => ({
    orgId,
    at: ctx.now,
    kind: 'rule.updated',
    actor: ctx.actor,
    ruleIds: [id],
    sourceId: body.sourceId ?? undefined,
    outcome: 'ok',
    detail: { version, changed },
  }));
  if (!rule) throw notFound('No such rule in your org.');
  return ruleView(rule);
}

export async function deleteRule(deps: RulesDeps, ctx: RequestContext, id: string): Promise<void> {
  const orgId = ctx.tenant.orgId;
  const deleted = await deps.rules.delete(orgId, id, ctx.now, (version) => ({
    orgId,
    at: ctx.now,
    kind: 'rule.deleted',
    actor: ctx.actor,
    ruleIds: [id],
    outcome: 'ok',
    detail: { version },
  }));
  if (!deleted) throw notFound('No such rule in your org.');
}
