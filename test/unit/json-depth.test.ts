import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from '../../src/lib/json-depth.js';

describe('nestsDeeperThan', () => {
  it('counts arrays and objects inside each other, not side by side', () => {
    expect(nestsDeeperThan('{"a":[[1]]}', 3)).toBe(false);
    expect(nestsDeeperThan('{"a":[[1]]}', 2)).toBe(true);
    expect(nestsDeeperThan('[[],[],{},[[]]]', 3)).toBe(false);
    expect(nestsDeeperThan('1', 0)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(nestsDeeperThan('{"a":"[[[{{{","b":"\\"[[[[","c":"\\\\"}', 1)).toBe(false);
    expect(nestsDeeperThan('["\\\\",[[]]]', 2)).toBe(true);
  });

  it('answers for 1,000,000 levels without recursing', () => {
    expect(nestsDeeperThan('['.repeat(1_000_000), 64)).toBe(true);
  });

  it('does not let stray closers earn extra depth', () => {
    expect(nestsDeeperThan(`]]]]${'['.repeat(3)}`, 2)).toBe(true);
  });
});
