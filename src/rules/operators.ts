import { MISSING } from './json-path.js';
import { isIsoDate, type Op, type Primitive } from './schemas.js';

/**
 * Operator semantics (README "Rules: operators"):
 * - A missing path fails every operator except `ne` (nothing there is "not equal") and
 *   `exists: false`.
 * - `eq`/`ne`/`in`/`contains` compare primitives. A number and a numeric string compare as
 *   numbers (`5` eq `"5"`, `"5.0"`); everything else compares strictly (`true` ≠ `"true"`).
 * - `gt`/`gte`/`lt`/`lte` with a number compare numbers (numeric strings count); with an ISO date
 *   they compare instants, and the value found must be an ISO date too. Anything else fails.
 * - `contains`: a substring of a string, or an element of an array (by `eq`).
 * - `startsWith`: strings only.
 */
export function applyOp(op: Op, actual: unknown, expected: unknown): boolean {
  if (actual === MISSING) return op === 'ne' || (op === 'exists' && expected === false);
  switch (op) {
    case 'exists':
      return expected !== false;
    case 'eq':
      return equals(actual, expected as Primitive);
    case 'ne':
      return !equals(actual, expected as Primitive);
    case 'in':
      return (expected as Primitive[]).some((e) => equals(actual, e));
    case 'contains':
      if (typeof actual === 'string') return typeof expected === 'string' && actual.includes(expected);
      return Array.isArray(actual) && actual.some((a) => equals(a, expected as Primitive));
    case 'startsWith':
      return typeof actual === 'string' && actual.startsWith(expected as string);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return compare(op, actual, expected as number | string);
  }
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '' && /^[\s+-]?[\d.eE+-]+\s*$/.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function equals(actual: unknown, expected: Primitive): boolean {
  if (actual === expected) return true;
  if (typeof actual === 'number' || typeof expected === 'number') {
    if (typeof actual === 'boolean' || typeof expected === 'boolean') return false;
    const a = asNumber(actual);
    const e = asNumber(expected);
    return a !== undefined && e !== undefined && a === e;
  }
  return false;
}

function compare(op: 'gt' | 'gte' | 'lt' | 'lte', actual: unknown, expected: number | string): boolean {
  let a: number | undefined;
  let e: number;
  if (typeof expected === 'number') {
    a = asNumber(actual);
    e = expected;
  } else {
    a = isIsoDate(actual) ? Date.parse(actual) : undefined;
    e = Date.parse(expected);
  }
  if (a === undefined) return false;
  switch (op) {
    case 'gt':
      return a > e;
    case 'gte':
      return a >= e;
    case 'lt':
      return a < e;
    case 'lte':
      return a <= e;
  }
}
