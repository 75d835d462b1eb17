import { type CompiledRule, evaluate, holds, type Miss } from './compile.js';
import { MISSING, type Path, read } from './json-path.js';
import { render } from './template.js';

/**
 * Matching is pure: an event, the org's rules and a source in; matches, the merged PATCH per
 * target participant and (for the dry run) why every other rule missed, out. No I/O, no clock.
 */
/** By purpose (or an ordered list of purposes: the first with an active participant wins), or by id. */
export type ParticipantSelector = { purpose: string | readonly string[] } | { id: string };

export interface Target {
  conversationId: string;
  participant: ParticipantSelector;
}

export interface Dropped {
  attribute: string;
  reason: 'missing_path' | 'too_long';
  detail: string;
}

export interface RuleMatch {
  ruleId: string;
  version: number;
  name: string;
  target: Target;
  attributes: Record<string, string>;
  dropped: Dropped[];
}

export interface RuleMiss {
  ruleId: string;
  version: number;
  name: string;
  reason: 'disabled' | 'other_source' | 'conditions' | 'no_target' | 'nothing_to_set';
  miss?: Miss;
  detail?: string;
}

export interface Patch {
  target: Target;
  /** Exactly what goes into `{"attributes": …}` (before removing values Genesys already has). */
  attributes: Record<string, string>;
  /** Which rule (and version) each attribute came from. */
  from: Record<string, { ruleId: string; version: number }>;
  rules: Array<{ ruleId: string; version: number }>;
}

export interface MatchResult {
  matches: RuleMatch[];
  patches: Patch[];
  misses: RuleMiss[];
}

export interface MatchOptions {
  /** Longest attribute value sent; longer ones are dropped (`too_long`). */
  maxValueLength: number;
  /** Also say why each non-matching rule missed (the dry run); delivery skips that work. */
  explain: boolean;
}

interface Bucket {
  byType: Map<string, CompiledRule[]>;
  untyped: CompiledRule[];
}

const ANY_SOURCE = '\u0000any';

/**
 * An org's rules, indexed once: by source (plus the source-less ones) and, within that, by the
 * `$.type` value a rule requires, so an event is checked only against rules that could match it.
 */
export class RuleSet {
  private readonly buckets = new Map<string, Bucket>();
  private readonly byId: ReadonlyMap<string, CompiledRule>;

  constructor(readonly rules: readonly CompiledRule[]) {
    this.byId = new Map(rules.map((r) => [r.id, r]));
    for (const r of rules) {
      if (!r.enabled) continue;
      const key = r.sourceId ?? ANY_SOURCE;
      let b = this.buckets.get(key);
      if (!b) {
        b = { byType: new Map(), untyped: [] };
        this.buckets.set(key, b);
      }
      if (r.typeKey === undefined) b.untyped.push(r);
      else {
        const list = b.byType.get(r.typeKey) ?? [];
        list.push(r);
        b.byType.set(r.typeKey, list);
      }
    }
  }

  match(event: unknown, sourceId: string | null, opts: MatchOptions): MatchResult {
    const type = read(event, TYPE_PATH);
    const candidates: CompiledRule[] = [];
    for (const key of sourceId === null ? [ANY_SOURCE] : [sourceId, ANY_SOURCE]) {
      const b = this.buckets.get(key);
      if (!b) continue;
      candidates.push(...b.untyped);
      if (typeof type === 'string') candidates.push(...(b.byType.get(type) ?? []));
    }
    const matches: RuleMatch[] = [];
    const misses: RuleMiss[] = [];
    for (const rule of candidates) {
      if (!opts.explain && !holds(rule.when, event)) continue;
      const outcome = tryRule(rule, event, opts.maxValueLength, !opts.explain);
      if ('target' in outcome) matches.push(outcome);
      else if (opts.explain) misses.push(outcome);
    }
    if (opts.explain) {
      const seen = new Set(candidates);
      for (const rule of this.rules) {
        if (seen.has(rule)) continue;
        misses.push(explainSkipped(rule, event, sourceId, opts.maxValueLength));
      }
    }
    matches.sort(byPrecedence(this.byId));
    return { matches, patches: merge(matches), misses };
  }
}

const TYPE_PATH: Path = [{ key: 'type' }];

function base(rule: CompiledRule) {
  return { ruleId: rule.id, version: rule.version, name: rule.name };
}

function explainSkipped(rule: CompiledRule, event: unknown, sourceId: string | null, max: number): RuleMiss {
  if (!rule.enabled) return { ...base(rule), reason: 'disabled' };
  if (rule.sourceId !== null && rule.sourceId !== sourceId) {
    // A dry run without a source still says what the rule's conditions make of the event.
    const outcome = sourceId === null ? tryRule(rule, event, max) : undefined;
    const conditions = !outcome
      ? ''
      : 'target' in outcome
        ? ': its conditions hold, so with that source it would match'
        : `: and ${outcome.reason === 'conditions' ? 'its conditions do not hold' : (outcome.detail ?? outcome.reason)}`;
    return {
      ...base(rule),
      reason: 'other_source',
      detail: `the rule listens to ${rule.sourceId}${conditions}`,
      ...(outcome && !('target' in outcome) && outcome.miss ? { miss: outcome.miss } : {}),
    };
  }
  // Left out by the $.type index: evaluating says exactly which leaf failed.
  const outcome = tryRule(rule, event, max);
  return 'target' in outcome ? { ...base(rule), reason: 'conditions' } : outcome;
}

function tryRule(rule: CompiledRule, event: unknown, max: number, knownToHold = false): RuleMatch | RuleMiss {
  const miss = knownToHold ? undefined : evaluate(rule.when, event);
  if (miss) return { ...base(rule), reason: 'conditions', miss };
  const conversationId = idAt(event, rule.conversationId);
  if (conversationId === undefined) {
    return {
      ...base(rule),
      reason: 'no_target',
      detail: 'target.conversationId is missing or not a string in the event',
    };
  }
  let participant: ParticipantSelector;
  if ('id' in rule.participant) {
    const id = idAt(event, rule.participant.id);
    if (id === undefined)
      return { ...base(rule), reason: 'no_target', detail: 'target.participant.id is missing in the event' };
    participant = { id };
  } else {
    participant = { purpose: rule.participant.purpose };
  }
  const attributes: Record<string, string> = {};
  const dropped: Dropped[] = [];
  for (const [name, template] of rule.set) {
    const r = render(template, event, max);
    if ('value' in r) attributes[name] = r.value;
    else dropped.push({ attribute: name, reason: r.dropped, detail: r.detail });
  }
  if (Object.keys(attributes).length === 0) {
    return {
      ...base(rule),
      reason: 'nothing_to_set',
      detail: dropped.map((d) => `${d.attribute}: ${d.reason}`).join('; '),
    };
  }
  return { ...base(rule), target: { conversationId, participant }, attributes, dropped };
}

/** Ids are strings in Genesys; a number in the event is accepted as its decimal text. */
function idAt(event: unknown, path: Path): string | undefined {
  const v = read(event, path);
  if (v === MISSING) return undefined;
  if (typeof v === 'string' && v.length > 0 && v.length <= 128) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return undefined;
}

/** Higher priority first; on equal priority the older rule (then the smaller id) first. */
function byPrecedence(info: ReadonlyMap<string, CompiledRule>) {
  return (a: RuleMatch, b: RuleMatch) => {
    const ra = info.get(a.ruleId)!;
    const rb = info.get(b.ruleId)!;
    return (
      rb.priority - ra.priority || ra.createdAt - rb.createdAt || (ra.id < rb.id ? -1 : ra.id > rb.id ? 1 : 0)
    );
  };
}

export function targetKey(t: Target): string {
  const p =
    'id' in t.participant ? `id:${t.participant.id}` : `purpose:${[t.participant.purpose].flat().join(',')}`;
  return `${t.conversationId}\u0000${p}`;
}

/** Per target participant, the first (highest-precedence) rule to set an attribute wins it. */
function merge(sorted: RuleMatch[]): Patch[] {
  const patches = new Map<string, Patch>();
  for (const m of sorted) {
    const key = targetKey(m.target);
    let p = patches.get(key);
    if (!p) {
      p = { target: m.target, attributes: {}, from: {}, rules: [] };
      patches.set(key, p);
    }
    let contributed = false;
    for (const [name, value] of Object.entries(m.attributes)) {
      if (Object.hasOwn(p.attributes, name)) continue;
      p.attributes[name] = value;
      p.from[name] = { ruleId: m.ruleId, version: m.version };
      contributed = true;
    }
    if (contributed) p.rules.push({ ruleId: m.ruleId, version: m.version });
  }
  return [...patches.values()];
}
