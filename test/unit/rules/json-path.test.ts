import { describe, expect, it } from 'vitest';
import { formatJsonPath, MISSING, PathError, parsePath, read } from '../../../src/rules/json-path.js';

describe('parsePath', () => {
  it.each([
    ['$', []],
    ['$.type', [{ key: 'type' }]],
    ['$.customer.tier', [{ key: 'customer' }, { key: 'tier' }]],
    ["$['any key']", [{ key: 'any key' }]],
    ['$["dotted.key"]', [{ key: 'dotted.key' }]],
    ["$['it\\'s']", [{ key: "it's" }]],
    ['$.items[0].sku', [{ key: 'items' }, { index: 0 }, { key: 'sku' }]],
    ['$.a-b._c$', [{ key: 'a-b' }, { key: '_c$' }]],
    ["$['']", [{ key: '' }]],
  ])('%s', (text, segments) => {
    expect(parsePath(text)).toEqual(segments);
  });

  it.each([
    ['', /starts with \$/],
    ['customer.tier', /starts with \$/],
    ['$..x', /recursive descent/],
    ['$.*', /expected a name/],
    ['$[*]', /filters and wildcards/],
    ['$[?(@.a)]', /filters and wildcards/],
    ['$[0:2]', /filters and wildcards/],
    ['$[-1]', /filters and wildcards/],
    ['$[01]', /filters and wildcards/],
    ["$['__proto__']", /not allowed/],
    ['$.__proto__', /not allowed/],
    ['$.constructor.prototype', /not allowed/],
    ["$['unterminated", /unterminated/],
    ["$['a\\b']", /escapes/],
    ['$.a b', /unexpected/],
    ['$.a;process.exit()', /unexpected/],
    [`$${'.a'.repeat(33)}`, /at most 32 steps/],
    [`$${'.a'.repeat(10_000)}`, /at most 512 characters/],
    [`$.${'x'.repeat(100_000)}`, /at most 512 characters/],
  ])('refuses %s', (text, message) => {
    expect(() => parsePath(text)).toThrow(PathError);
    expect(() => parsePath(text)).toThrow(message);
  });

  it('refuses non-strings', () => {
    expect(() => parsePath(42 as unknown as string)).toThrow(PathError);
  });

  it('formats back to a canonical path', () => {
    for (const p of ['$.a.b', "$['a b']", '$.x[3]', "$['it\\'s']"])
      expect(formatJsonPath(parsePath(p))).toBe(p);
  });
});

describe('read', () => {
  const doc = JSON.parse('{"a":{"b":[10,{"c":null}]},"__proto__":{"polluted":true},"n":0}');

  it.each([
    ['$.a.b[0]', 10],
    ['$.a.b[1].c', null],
    ['$.n', 0],
    ['$', doc],
  ])('%s', (p, v) => {
    expect(read(doc, parsePath(p))).toEqual(v);
  });

  it.each([
    '$.x',
    '$.a.b[2]',
    '$.a.b.c',
    '$.n.x',
    '$.a.b[1].c.d',
    '$.toString',
    '$.hasOwnProperty',
    '$.a.b.length',
  ])('%s is missing (own properties only)', (p) => {
    expect(read(doc, parsePath(p))).toBe(MISSING);
  });

  it('never touches prototypes', () => {
    read(doc, parsePath('$.polluted'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(read([1, 2], parsePath('$.length'))).toBe(MISSING);
  });
});
