import { describe, expect, it } from 'vitest';
import { compileRule } from '../../../src/rules/compile.js';
import { RuleSet } from '../../../src/rules/match.js';
import { RuleBodySchema } from '../../../src/rules/schemas.js';

describe('hostile input', () => {
  it('refuses a condition tree nested 10,000 deep at the depth limit, without overflowing', () => {
    let when: unknown = { path: '$.a', op: 'exists' };
    for (let i = 0; i < 10_000; i++) when = { not: when };
    const r = RuleBodySchema.safeParse({
      name: 'deep',
      when,
      target: { conversationId: '$.c' },
      set: { a: 'b' },
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues).toHaveLength(1);
    expect(r.error?.issues[0]?.message).toMatch(/at most 10 deep/);
  });

  it.each([10_000, 100_000])('matches an event nested %i deep, dropping what cannot be encoded', (depth) => {
    let doc: unknown = { leaf: 'x' };
    for (let i = 0; i < depth; i++) doc = { n: doc };
    const event = { type: 't', c: 'conv', deep: doc };
    const body = RuleBodySchema.parse({
      name: 'r',
      when: { path: `$.deep${'.n'.repeat(30)}`, op: 'exists' },
      target: { conversationId: '$.c' },
      set: { ok: 'literal', deep: '{{ $.deep.n.n }}' },
    });
    const set = new RuleSet([compileRule({ id: 'rule_1', version: 1, createdAt: 0, body })]);
    const [m] = set.match(event, null, { maxValueLength: 100, explain: true }).matches;
    expect(m?.attributes).toEqual({ ok: 'literal' });
    expect(m?.dropped).toEqual([{ attribute: 'deep', reason: 'too_long', detail: expect.any(String) }]);
  });

  it('refuses a rule of megabytes of text at the field limits', () => {
    const huge = 'x'.repeat(2_000_000);
    const r = RuleBodySchema.safeParse({
      name: huge,
      when: { path: '$.a', op: 'eq', value: huge },
      target: { conversationId: `$.${huge}` },
      set: { a: huge },
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'name',
      'set.a',
      'target.conversationId',
      'when.value',
    ]);
  });
});
