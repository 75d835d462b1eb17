import { formatJsonPath, MISSING, type Path, parsePath, read } from './json-path.js';
import { applyOp } from './operators.js';
import type { Condition, Op, RuleBody } from './schemas.js';
import { parseTemplate, type Template } from './template.js';

/** A condition with its paths parsed: built once per rule version, evaluated per event. */
export type Compiled =
  | { all: Compiled[] }
  | { any: Compiled[] }
  | { not: Compiled }
  | { path: Path; source: string; op: Op; value: unknown };

/** Why a condition did not hold, for the dry run and the audit. */
export type Miss =
  | { path: string; op: Op; value: unknown; actual: unknown; missing: boolean }
  | { any: Miss[] }
  | { not: 'matched' };

export interface CompiledRule {
  id: string;
  version: number;
  name: string;
  priority: number;
  createdAt: number;
  sourceId: string | null;
  enabled: boolean;
  when: Compiled;
  conversationId: Path;
  participant: { purpose: string | string[] } | { id: Path };
  set: ReadonlyArray<readonly [name: string, template: Template]>;
  /** `$.type` value when the rule requires one with `eq`: the matcher's index key. */
  typeKey: string | undefined;
}

export function compileCondition(c: Condition): Compiled {
  if ('all' in c) return { all: c.all.map(compileCondition) };
  if ('any' in c) return { any: c.any.map(compileCondition) };
  if ('not' in c) return { not: compileCondition(c.not) };
  return { path: parsePath(c.path), source: c.path, op: c.op, value: c.value };
}

/** Rules are validated when saved, so compiling a stored version cannot fail on its input. */
export function compileRule(rule: {
  id: string;
  version: number;
  createdAt: number;
  body: RuleBody;
}): CompiledRule {
  const b = rule.body;
  const when = compileCondition(b.when);
  return {
    id: rule.id,
    version: rule.version,
    name: b.name,
    priority: b.priority,
    createdAt: rule.createdAt,
    sourceId: b.sourceId,
    enabled: b.enabled,
    when,
    conversationId: parsePath(b.target.conversationId),
    participant:
      'id' in b.target.participant ? { id: parsePath(b.target.participant.id) } : b.target.participant,
    set: Object.entries(b.set).map(([name, t]) => [name, parseTemplate(t)] as const),
    typeKey: typeKeyOf(when),
  };
}

/** The string a rule needs `$.type` to equal, if its top level requires that (alone or in `all`). */
function typeKeyOf(c: Compiled): string | undefined {
  const leaves = 'all' in c ? c.all : [c];
  for (const l of leaves) {
    if ('op' in l && l.op === 'eq' && typeof l.value === 'string' && formatJsonPath(l.path) === '$.type')
      return l.value;
  }
  return undefined;
}

const MAX_ACTUAL = 200;

/** Whether the condition holds, allocating nothing: delivery's path (the dry run uses `evaluate`). */
export function holds(c: Compiled, event: unknown): boolean {
  if ('all' in c) {
    for (const child of c.all) if (!holds(child, event)) return false;
    return true;
  }
  if ('any' in c) {
    for (const child of c.any) if (holds(child, event)) return true;
    return false;
  }
  if ('not' in c) return !holds(c.not, event);
  return applyOp(c.op, read(event, c.path), c.value);
}

/** Whether the condition holds for the event; when not, why (the first failing branch). */
export function evaluate(c: Compiled, event: unknown): Miss | undefined {
  if ('all' in c) {
    for (const child of c.all) {
      const miss = evaluate(child, event);
      if (miss) return miss;
    }
    return undefined;
  }
  if ('any' in c) {
    const misses: Miss[] = [];
    for (const child of c.any) {
      const miss = evaluate(child, event);
      if (!miss) return undefined;
      misses.push(miss);
    }
    return { any: misses };
  }
  if ('not' in c) return evaluate(c.not, event) ? undefined : { not: 'matched' };
  const actual = read(event, c.path);
  if (applyOp(c.op, actual, c.value)) return undefined;
  return { path: c.source, op: c.op, value: c.value, actual: summarize(actual), missing: actual === MISSING };
}

/** The value found, cut to a readable size for traces. */
function summarize(v: unknown): unknown {
  if (v === MISSING) return null;
  if (typeof v === 'string') return v.length > MAX_ACTUAL ? `${v.slice(0, MAX_ACTUAL)}…` : v;
  if (v !== null && typeof v === 'object') {
    const json = JSON.stringify(v);
    return json.length > MAX_ACTUAL ? `${json.slice(0, MAX_ACTUAL)}…` : v;
  }
  return v;
}
