import { describe, expect, it } from 'vitest';
import { MISSING } from '../../../src/rules/json-path.js';
import { applyOp } from '../../../src/rules/operators.js';
import type { Op } from '../../../src/rules/schemas.js';

const M = MISSING;

/** [op, actual, expected, result]: every operator × type × missing value. */
const table: Array<[Op, unknown, unknown, boolean]> = [
  ['eq', 'gold', 'gold', true],
  ['eq', 'Gold', 'gold', false],
  ['eq', 5, 5, true],
  ['eq', 5, '5', true],
  ['eq', '5.0', 5, true],
  ['eq', '5', '5.0', false],
  ['eq', 'five', 5, false],
  ['eq', '', 0, false],
  ['eq', true, true, true],
  ['eq', true, 'true', false],
  ['eq', 1, true, false],
  ['eq', null, null, true],
  ['eq', null, 'null', false],
  ['eq', { a: 1 }, 'x', false],
  ['eq', M, 'x', false],
  ['eq', M, null, false],
  ['ne', 'a', 'b', true],
  ['ne', 'a', 'a', false],
  ['ne', 5, '5', false],
  ['ne', M, 'x', true],
  ['ne', null, 'x', true],
  ['in', 'gold', ['gold', 'platinum'], true],
  ['in', 'silver', ['gold', 'platinum'], false],
  ['in', 2, ['1', '2'], true],
  ['in', null, [null], true],
  ['in', M, ['x'], false],
  ['exists', 'x', undefined, true],
  ['exists', null, undefined, true],
  ['exists', M, undefined, false],
  ['exists', M, true, false],
  ['exists', M, false, true],
  ['exists', 'x', false, false],
  ['gt', 10, 5, true],
  ['gt', 5, 5, false],
  ['gte', 5, 5, true],
  ['lt', '4', 5, true],
  ['lte', '5', 5, true],
  ['gt', 'abc', 5, false],
  ['gt', true, 0, false],
  ['gt', null, 0, false],
  ['gt', M, 0, false],
  ['gt', '2026-11-25T12:00:00Z', '2026-11-25T11:00:00Z', true],
  ['lt', '2026-11-25T12:00:00+02:00', '2026-11-25T11:00:00Z', true],
  ['gte', '2026-11-25', '2026-11-25T00:00:00Z', true],
  ['gt', 'yesterday', '2026-11-25T11:00:00Z', false],
  ['gt', 1764068400000, '2026-11-25T11:00:00Z', false],
  ['lt', M, '2026-11-25T11:00:00Z', false],
  ['contains', 'platinum plus', 'plus', true],
  ['contains', 'platinum', 'gold', false],
  ['contains', ['vip', 'eu'], 'vip', true],
  ['contains', [1, 2], '2', true],
  ['contains', ['vip'], 'v', false],
  ['contains', { vip: true }, 'vip', false],
  ['contains', 42, '4', false],
  ['contains', M, 'x', false],
  ['startsWith', 'customer.updated', 'customer.', true],
  ['startsWith', 'order.updated', 'customer.', false],
  ['startsWith', 42, '4', false],
  ['startsWith', M, 'x', false],
];

describe('operators', () => {
  it.each(table)('%s: %j vs %j → %s', (op, actual, expected, result) => {
    expect(applyOp(op, actual, expected)).toBe(result);
  });
});
