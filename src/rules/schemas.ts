import { z } from '@hono/zod-openapi';
import { type PathError, parsePath } from './json-path.js';
import { parseTemplate, type TemplateError } from './template.js';

/**
 * What an admin may save as a rule. Every problem is reported at once with its JSON path (the
 * condition tree is checked by hand so a mistake deep in `when` is named exactly, e.g.
 * `when.all[1].op`, instead of a union's "no variant matched").
 */
export const OPS = ['eq', 'ne', 'in', 'exists', 'gt', 'gte', 'lt', 'lte', 'contains', 'startsWith'] as const;
export type Op = (typeof OPS)[number];

export const LIMITS = {
  depth: 10,
  leaves: 200,
  inValues: 1000,
  attributes: 50,
  attributeName: 256,
  template: 4096,
  stringValue: 1000,
} as const;

/**
 * Genesys attribute names are case-sensitive free strings (Architect's `Account Balance` has a
 * space): anything without control characters or spaces at either end.
 */
export const ATTRIBUTE_NAME = /^[^\s\p{Cc}](?:[^\p{Cc}]*[^\s\p{Cc}])?$/u;
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

export type Primitive = string | number | boolean | null;
export type Leaf = { path: string; op: Op; value?: unknown };
export type Condition = { all: Condition[] } | { any: Condition[] } | { not: Condition } | Leaf;

type Issue = { path: (string | number)[]; message: string };

function isPrimitive(v: unknown): v is Primitive {
  return (
    v === null ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v)) ||
    (typeof v === 'string' && v.length <= LIMITS.stringValue)
  );
}

export const isIsoDate = (v: unknown): v is string =>
  typeof v === 'string' && ISO_DATE.test(v) && !Number.isNaN(Date.parse(v));

function checkValue(op: Op, value: unknown, at: (string | number)[], issues: Issue[]): void {
  const bad = (message: string) => issues.push({ path: [...at, 'value'], message });
  switch (op) {
    case 'exists':
      if (value !== undefined && typeof value !== 'boolean') bad('exists takes true, false, or no value');
      return;
    case 'eq':
    case 'ne':
    case 'contains':
      if (!isPrimitive(value))
        bad(`${op} needs a string (≤ ${LIMITS.stringValue} characters), number, boolean or null`);
      return;
    case 'startsWith':
      if (typeof value !== 'string' || value.length > LIMITS.stringValue) bad('startsWith needs a string');
      return;
    case 'in':
      if (!Array.isArray(value) || value.length === 0 || value.length > LIMITS.inValues) {
        bad(`in needs an array of 1 to ${LIMITS.inValues} values`);
      } else {
        value.forEach((v, i) => {
          if (!isPrimitive(v))
            issues.push({
              path: [...at, 'value', i],
              message: 'in takes strings, numbers, booleans or null',
            });
        });
      }
      return;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (!(typeof value === 'number' && Number.isFinite(value)) && !isIsoDate(value)) {
        bad(`${op} needs a number or an ISO 8601 date such as 2026-11-25T12:00:00Z`);
      }
      return;
  }
}

/** Walks a condition tree, collecting every problem with its path. */
export function checkCondition(
  node: unknown,
  at: (string | number)[],
  issues: Issue[],
  state = { depth: 0, leaves: 0 },
): void {
  if (state.depth >= LIMITS.depth) {
    issues.push({ path: at, message: `conditions may nest at most ${LIMITS.depth} deep` });
    return;
  }
  if (node === null || typeof node !== 'object' || Array.isArray(node)) {
    issues.push({ path: at, message: 'a condition is an object: {all}, {any}, {not} or {path, op, value}' });
    return;
  }
  const keys = Object.keys(node);
  const o = node as Record<string, unknown>;
  for (const group of ['all', 'any'] as const) {
    if (keys.length === 1 && keys[0] === group) {
      const list = o[group];
      if (!Array.isArray(list) || list.length === 0) {
        issues.push({ path: [...at, group], message: `${group} needs a non-empty array of conditions` });
        return;
      }
      state.depth++;
      for (const [i, c] of list.entries()) checkCondition(c, [...at, group, i], issues, state);
      state.depth--;
      return;
    }
  }
  if (keys.length === 1 && keys[0] === 'not') {
    state.depth++;
    checkCondition(o.not, [...at, 'not'], issues, state);
    state.depth--;
    return;
  }
  const extra = keys.filter((k) => k !== 'path' && k !== 'op' && k !== 'value');
  if (extra.length > 0) {
    issues.push({
      path: at,
      message: `unknown ${extra.map((k) => JSON.stringify(k)).join(', ')}: use all, any, not, or path/op/value`,
    });
    return;
  }
  if (++state.leaves > LIMITS.leaves) {
    if (state.leaves === LIMITS.leaves + 1)
      issues.push({ path: at, message: `a rule may have at most ${LIMITS.leaves} conditions` });
    return;
  }
  checkPath(o.path, [...at, 'path'], issues);
  if (typeof o.op !== 'string' || !(OPS as readonly string[]).includes(o.op)) {
    issues.push({ path: [...at, 'op'], message: `op must be one of ${OPS.join(', ')}` });
    return;
  }
  checkValue(o.op as Op, o.value, at, issues);
}

function checkPath(p: unknown, at: (string | number)[], issues: Issue[]): void {
  if (typeof p !== 'string') {
    issues.push({ path: at, message: 'a path is a string such as $.customer.tier' });
    return;
  }
  try {
    parsePath(p);
  } catch (e) {
    issues.push({ path: at, message: (e as PathError).message });
  }
}

const PathString = z
  .string()
  .superRefine((p, ctx) => {
    const issues: Issue[] = [];
    checkPath(p, [], issues);
    for (const i of issues) ctx.addIssue({ code: 'custom', message: i.message });
  })
  .openapi({ example: '$.interactionId' });

const ConditionSchema = z
  .unknown()
  .superRefine((c, ctx) => {
    const issues: Issue[] = [];
    checkCondition(c, [], issues);
    for (const i of issues) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  })
  .transform((c) => c as Condition)
  .openapi({ type: 'object', description: '{all:[…]} | {any:[…]} | {not:…} | {path, op, value}' });

const Template = z
  .string()
  .max(LIMITS.template)
  .superRefine((t, ctx) => {
    try {
      parseTemplate(t);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as TemplateError).message });
    }
  });

const SetSchema = z.record(z.string(), Template).superRefine((set, ctx) => {
  const names = Object.keys(set);
  if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'set needs at least one attribute' });
  if (names.length > LIMITS.attributes)
    ctx.addIssue({ code: 'custom', message: `set may hold at most ${LIMITS.attributes} attributes` });
  for (const name of names) {
    if (
      name.length === 0 ||
      name.length > LIMITS.attributeName ||
      !ATTRIBUTE_NAME.test(name) ||
      RESERVED.has(name)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `attribute names are 1 to ${LIMITS.attributeName} characters, without control characters or spaces at either end, and not __proto__, constructor or prototype`,
      });
    }
  }
});

const Purpose = z.string().trim().min(1).max(64);

/**
 * By purpose, or an ordered list of purposes (the first with an active participant wins), or by
 * an id read from the event. On agent-placed and direct calls the remote party is `external`,
 * not `customer` (it becomes `customer` only through a queue), hence the default list.
 */
export const ParticipantSchema = z.union([
  z.strictObject({ purpose: z.union([Purpose, z.array(Purpose).min(1).max(5)]) }),
  z.strictObject({ id: PathString }),
]);

export const DEFAULT_PARTICIPANT = { purpose: ['customer', 'external'] };

export const RuleBodySchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    enabled: z.boolean().default(true),
    priority: z.number().int().min(-1_000_000).max(1_000_000).default(100),
    sourceId: z.string().min(1).nullable().default(null),
    when: ConditionSchema,
    target: z.strictObject({
      conversationId: PathString,
      participant: ParticipantSchema.default(DEFAULT_PARTICIPANT),
    }),
    set: SetSchema,
  })
  .openapi('Rule');

export type RuleBody = z.output<typeof RuleBodySchema>;
