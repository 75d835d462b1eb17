import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRule } from '../../../src/rules/compile.js';
import { RuleSet } from '../../../src/rules/match.js';
import { RuleBodySchema } from '../../../src/rules/schemas.js';

const paths = fc.constantFrom(
  '$',
  '$.type',
  '$.a',
  '$.a.b',
  '$.a[0]',
  "$['x y']",
  '$.n',
  '$.list[2].k',
  '$.__x',
);
const leaf = fc.record({
  path: paths,
  op: fc.constantFrom('eq', 'ne', 'in', 'exists', 'gt', 'gte', 'lt', 'lte', 'contains', 'startsWith'),
  value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant('2026-11-25T12:00:00Z')),
});
const condition = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ all: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ any: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: tie('node') }),
  ),
})).node;

describe('rules never throw', () => {
  it('validation never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), condition, (anything, when) => {
        RuleBodySchema.safeParse(anything);
        RuleBodySchema.safeParse({
          name: 'r',
          when,
          target: { conversationId: '$.c' },
          set: { a: '{{ $.a }}' },
        });
      }),
      { numRuns: 500 },
    );
  });

  it('matching never throws on arbitrary events, for rules that validated', () => {
    fc.assert(
      fc.property(
        fc.array(condition, { minLength: 1, maxLength: 5 }),
        fc.jsonValue({ maxDepth: 5 }),
        fc.option(fc.constantFrom('src_a', 'src_b'), { nil: null }),
        (whens, event, sourceId) => {
          const rules = whens.flatMap((when, i) => {
            const body = RuleBodySchema.safeParse({
              name: `r${i}`,
              priority: i,
              sourceId: i % 2 ? 'src_a' : null,
              when,
              target: { conversationId: '$.c', participant: i % 3 ? { purpose: 'customer' } : { id: '$.p' } },
              set: { a: '{{ $.a }}', b: 'lit {{ $ }}' },
            });
            return body.success
              ? [compileRule({ id: `rule_${i}`, version: 1, createdAt: i, body: body.data })]
              : [];
          });
          const result = new RuleSet(rules).match(event, sourceId, { maxValueLength: 64, explain: true });
          expect(result.matches.length + result.misses.length).toBe(rules.length);
        },
      ),
      { numRuns: 500 },
    );
  });
});
