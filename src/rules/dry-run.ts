import type { RequestContext } from '../tenants/context.js';
import { compileRule } from './compile.js';
import { checkSourceOfOrg, type RulesDeps } from './manage.js';
import { RuleSet } from './match.js';
import type { RuleBody } from './schemas.js';

/**
 * Longest attribute value a rule may produce by default (an org may change it); longer ones are
 * dropped with `too_long`. Genesys documents no value limit for the REST endpoint, only the
 * request body's 512,000 bytes.
 */
export const MAX_ATTRIBUTE_VALUE = 2000;

export interface DryRunInput {
  event: Record<string, unknown>;
  sourceId?: string | undefined;
  /** An unsaved rule from the editor; without it, the org's stored rules. */
  rule?: RuleBody | undefined;
}

/**
 * POST /v1/rules/test: what the rules would do with this event, with no Genesys call and nothing
 * stored. The bodies are what delivery would send before it drops the attributes the participant
 * already has (that needs the live conversation).
 */
export async function dryRun(deps: RulesDeps, ctx: RequestContext, input: DryRunInput) {
  await checkSourceOfOrg(deps, ctx, input.sourceId);
  const compiled = input.rule
    ? [compileRule({ id: 'unsaved', version: 0, createdAt: ctx.now, body: input.rule })]
    : (await deps.rules.list(ctx.tenant.orgId)).map(compileRule);
  const result = new RuleSet(compiled).match(input.event, input.sourceId ?? null, {
    maxValueLength: ctx.tenant.settings.maxAttributeValueLength,
    explain: true,
  });
  return {
    matches: result.matches,
    patches: result.patches.map((p) => ({
      target: p.target,
      body: { attributes: p.attributes },
      from: p.from,
      rules: p.rules,
    })),
    misses: result.misses,
  };
}
