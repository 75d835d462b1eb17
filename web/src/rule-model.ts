import type { Condition, Leaf, RuleBody, StoredRule } from './types.js';

/** The editor's model is the rule body itself: the form and the JSON view both edit it. */

export const OPS = ['eq', 'ne', 'in', 'exists', 'gt', 'gte', 'lt', 'lte', 'contains', 'startsWith'];

export function emptyRule(): RuleBody {
  return {
    name: '',
    enabled: true,
    priority: 100,
    sourceId: null,
    when: { all: [{ path: '$.type', op: 'eq', value: 'customer.updated' }] },
    target: { conversationId: '$.interactionId', participant: { purpose: 'customer' } },
    set: { customer_tier: '{{ $.customer.tier }}' },
  };
}

export function bodyOf(rule: StoredRule): RuleBody {
  const { id, version, createdAt, updatedAt, ...body } = rule;
  void [id, version, createdAt, updatedAt];
  return body;
}

/** The form edits a flat list of conditions under all/any; anything nested is JSON-only. */
export type Flat = { mode: 'all' | 'any'; leaves: Leaf[] } | null;

export function flatten(when: Condition): Flat {
  const isLeaf = (c: Condition): c is Leaf => typeof c === 'object' && c !== null && 'op' in c;
  if (isLeaf(when)) return { mode: 'all', leaves: [when] };
  for (const mode of ['all', 'any'] as const) {
    const list = (when as Record<string, unknown>)[mode];
    if (Array.isArray(list) && list.every((c) => isLeaf(c as Condition)))
      return { mode, leaves: list as Leaf[] };
  }
  return null;
}

/** What the value box shows: strings as typed, anything else as JSON. */
export function showValue(v: unknown): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The value box back to JSON: numbers, booleans, null and arrays parse; the rest is text. */
export function readValue(op: string, text: string): unknown {
  if (op === 'exists' && text.trim() === '') return undefined;
  try {
    const parsed = JSON.parse(text);
    if (op === 'in' && !Array.isArray(parsed)) return [parsed];
    return parsed;
  } catch {
    if (op === 'in')
      return text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    return text;
  }
}

/** An error path from the API (`when.all[1].op`) as a DOM id. */
export const fieldId = (path: string): string => `f-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;

/**
 * The body as the form can show it: JSON typed by hand may lack parts or hold the wrong types,
 * and the form must not break on it (the server names what is wrong on save).
 */
export function formView(raw: RuleBody): RuleBody {
  const b = (raw ?? {}) as Partial<RuleBody>;
  const obj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const target = obj(b.target) ? b.target : { conversationId: '', participant: { purpose: 'customer' } };
  const participant = obj(target.participant) ? target.participant : { purpose: 'customer' };
  return {
    name: typeof b.name === 'string' ? b.name : '',
    enabled: b.enabled !== false,
    priority: typeof b.priority === 'number' ? b.priority : 100,
    sourceId: typeof b.sourceId === 'string' ? b.sourceId : null,
    when: obj(b.when) ? b.when : { all: [] },
    target: { conversationId: String(target.conversationId ?? ''), participant },
    set: obj(b.set) ? Object.fromEntries(Object.entries(b.set).map(([k, v]) => [k, String(v)])) : {},
  };
}
