import type { RequestContext } from '../tenants/context.js';
import type { Miss } from './compile.js';
import { compileRule } from './compile.js';
import { checkSourceOfOrg, type RulesDeps } from './manage.js';
import { type RuleMiss, RuleSet } from './match.js';
import type { RuleBody } from './schemas.js';

/** The org's stored events a backtest reads, newest first (bodies as received). */
export interface RecentEvents {
  recent(
    orgId: string,
    sourceId: string | undefined,
    limit: number,
  ): Promise<Array<{ id: string; sourceId: string; receivedAt: number; body: string }>>;
}

export const MAX_BACKTEST_EVENTS = 1000;
const SAMPLES = 5;
const SAMPLE_VALUES = 5;

export interface BacktestResult {
  considered: number;
  matched: number;
  missed: number;
  /** Each attribute the draft would set: on how many events, and a few of the values. */
  attributes: Array<{ name: string; events: number; sampleValues: string[] }>;
  samples: {
    matched: Array<{ eventId: string; receivedAt: string; attributes: Record<string, string> }>;
    missed: Array<{ eventId: string; receivedAt: string; reasons: string[] }>;
  };
}

/**
 * POST /v1/rules/test with `{rule, recent: N}`: the draft against the org's last N stored events
 * (of the rule's source, when it names one). Nothing is sent or stored. The values are what the
 * rule would set; whether they differ from the participant's needs the live conversation.
 */
export async function backtest(
  deps: RulesDeps & { recentEvents: RecentEvents },
  ctx: RequestContext,
  input: { rule: RuleBody; recent: number; sourceId?: string | undefined },
): Promise<BacktestResult> {
  const sourceId = input.rule.sourceId ?? input.sourceId ?? undefined;
  await checkSourceOfOrg(deps, ctx, sourceId, input.rule.sourceId ? 'rule.sourceId' : 'sourceId');
  const draft = compileRule({ id: 'unsaved', version: 0, createdAt: ctx.now, body: input.rule });
  const set = new RuleSet([draft]);
  const events = await deps.recentEvents.recent(ctx.tenant.orgId, sourceId, input.recent);
  const result: BacktestResult = {
    considered: events.length,
    matched: 0,
    missed: 0,
    attributes: [],
    samples: { matched: [], missed: [] },
  };
  const byName = new Map<string, { events: number; values: Set<string> }>();
  for (const e of events) {
    const receivedAt = new Date(e.receivedAt).toISOString();
    const body = parse(e.body);
    const opts = { maxValueLength: ctx.tenant.settings.maxAttributeValueLength, explain: false };
    const patch = body === undefined ? undefined : set.match(body, e.sourceId, opts).patches[0];
    if (!patch) {
      result.missed++;
      if (result.samples.missed.length < SAMPLES) {
        const misses =
          body === undefined ? [] : set.match(body, e.sourceId, { ...opts, explain: true }).misses;
        const reasons = body === undefined ? ['the stored body is not readable JSON'] : misses.map(describe);
        result.samples.missed.push({ eventId: e.id, receivedAt, reasons });
      }
      continue;
    }
    result.matched++;
    for (const [name, value] of Object.entries(patch.attributes)) {
      const a = byName.get(name) ?? { events: 0, values: new Set<string>() };
      a.events++;
      if (a.values.size < SAMPLE_VALUES) a.values.add(value);
      byName.set(name, a);
    }
    if (result.samples.matched.length < SAMPLES) {
      result.samples.matched.push({ eventId: e.id, receivedAt, attributes: patch.attributes });
    }
  }
  result.attributes = [...byName].map(([name, a]) => ({
    name,
    events: a.events,
    sampleValues: [...a.values],
  }));
  return result;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A miss in plain words, for the samples an admin reads. */
export function describe(m: RuleMiss): string {
  if (m.reason !== 'conditions') return m.detail ?? m.reason.replaceAll('_', ' ');
  return m.miss ? describeMiss(m.miss) : 'the conditions do not hold';
}

function describeMiss(m: Miss): string {
  if ('any' in m) return `none of: ${m.any.map(describeMiss).join('; ')}`;
  if ('not' in m) return 'a condition under "not" matched';
  const wanted = `${m.op}${m.value === undefined ? '' : ` ${show(m.value)}`}`;
  return m.missing
    ? `${m.path} is missing (wanted ${wanted})`
    : `${m.path} is ${show(m.actual)} (wanted ${wanted})`;
}

function show(v: unknown): string {
  try {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 120 ? `${s.slice(0, 117)}…` : s;
  } catch {
    return '(too deep to show)';
  }
}
