import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { compileRule } from '../../../src/rules/compile.js';
import { RuleSet } from '../../../src/rules/match.js';
import { RuleBodySchema } from '../../../src/rules/schemas.js';

type RuleInput = z.input<typeof RuleBodySchema>;

let seq = 0;
function rule(
  body: Partial<RuleInput> & Pick<RuleInput, 'when' | 'set'>,
  extra: { createdAt?: number; id?: string } = {},
) {
  const parsed = RuleBodySchema.parse({
    name: `r${++seq}`,
    target: { conversationId: '$.interactionId' },
    ...body,
  });
  return compileRule({
    id: extra.id ?? `rule_${String(seq).padStart(3, '0')}`,
    version: 1,
    createdAt: extra.createdAt ?? seq,
    body: parsed,
  });
}

const opts = { maxValueLength: 256, explain: true };
const event = {
  type: 'customer.updated',
  interactionId: 'conv-1',
  customer: { tier: 'platinum', id: 'c-9' },
  lastPurchase: '2026-11-24',
};

describe('RuleSet.match', () => {
  it('matches the contract’s example and renders its set', () => {
    const r = rule({
      when: {
        all: [
          { path: '$.type', op: 'eq', value: 'customer.updated' },
          { path: '$.customer.tier', op: 'in', value: ['gold', 'platinum'] },
        ],
      },
      set: { customer_tier: '{{ $.customer.tier }}', last_purchase: '{{ $.lastPurchase }}' },
    });
    const result = new RuleSet([r]).match(event, null, opts);
    expect(result.misses).toEqual([]);
    expect(result.matches).toEqual([
      {
        ruleId: r.id,
        version: 1,
        name: r.name,
        target: { conversationId: 'conv-1', participant: { purpose: ['customer', 'external'] } },
        attributes: { customer_tier: 'platinum', last_purchase: '2026-11-24' },
        dropped: [],
      },
    ]);
    expect(result.patches).toEqual([
      {
        target: { conversationId: 'conv-1', participant: { purpose: ['customer', 'external'] } },
        attributes: { customer_tier: 'platinum', last_purchase: '2026-11-24' },
        from: { customer_tier: { ruleId: r.id, version: 1 }, last_purchase: { ruleId: r.id, version: 1 } },
        rules: [{ ruleId: r.id, version: 1 }],
      },
    ]);
  });

  it('merges per target: higher priority wins an attribute, then the older rule', () => {
    const low = rule(
      { priority: 10, when: { path: '$.type', op: 'exists' }, set: { a: 'low', only_low: 'x' } },
      { createdAt: 1 },
    );
    const high = rule(
      { priority: 200, when: { path: '$.type', op: 'exists' }, set: { a: 'high' } },
      { createdAt: 3 },
    );
    const olderSame = rule(
      { priority: 10, when: { path: '$.type', op: 'exists' }, set: { only_low: 'older' } },
      { createdAt: 0 },
    );
    const [patch] = new RuleSet([low, high, olderSame]).match(event, null, opts).patches;
    expect(patch?.attributes).toEqual({ a: 'high', only_low: 'older' });
    expect(patch?.from.a?.ruleId).toBe(high.id);
    expect(patch?.from.only_low?.ruleId).toBe(olderSame.id);
    // Only rules that gave the patch something are named in it.
    expect(patch?.rules.map((r) => r.ruleId)).toEqual([high.id, olderSame.id]);
  });

  it('keeps separate patches for separate targets', () => {
    const customer = rule({ when: { path: '$.type', op: 'exists' }, set: { a: '1' } });
    const agent = rule({
      when: { path: '$.type', op: 'exists' },
      target: { conversationId: '$.interactionId', participant: { purpose: 'agent' } },
      set: { a: '2' },
    });
    const byId = rule({
      when: { path: '$.type', op: 'exists' },
      target: { conversationId: '$.interactionId', participant: { id: '$.customer.id' } },
      set: { a: '3' },
    });
    const patches = new RuleSet([customer, agent, byId]).match(event, null, opts).patches;
    expect(patches.map((p) => [p.target.participant, p.attributes.a])).toEqual([
      [{ purpose: ['customer', 'external'] }, '1'],
      [{ purpose: 'agent' }, '2'],
      [{ id: 'c-9' }, '3'],
    ]);
  });

  it('uses the source’s rules and the source-less ones, never another source’s', () => {
    const mine = rule({ sourceId: 'src_a', when: { path: '$.type', op: 'exists' }, set: { s: 'a' } });
    const other = rule({ sourceId: 'src_b', when: { path: '$.type', op: 'exists' }, set: { s: 'b' } });
    const any = rule({ when: { path: '$.type', op: 'exists' }, set: { t: 'any' } });
    const result = new RuleSet([mine, other, any]).match(event, 'src_a', opts);
    expect(result.matches.map((m) => m.ruleId).sort()).toEqual([mine.id, any.id].sort());
    expect(result.misses).toEqual([expect.objectContaining({ ruleId: other.id, reason: 'other_source' })]);
  });

  it('says why each other rule missed, with the value found', () => {
    const wrongTier = rule({
      when: {
        all: [
          { path: '$.type', op: 'eq', value: 'customer.updated' },
          { path: '$.customer.tier', op: 'eq', value: 'gold' },
        ],
      },
      set: { a: 'x' },
    });
    const otherType = rule({ when: { path: '$.type', op: 'eq', value: 'order.shipped' }, set: { a: 'x' } });
    const disabled = rule({ enabled: false, when: { path: '$.type', op: 'exists' }, set: { a: 'x' } });
    const noTarget = rule({
      when: { path: '$.type', op: 'exists' },
      target: { conversationId: '$.nope' },
      set: { a: 'x' },
    });
    const allDropped = rule({ when: { path: '$.type', op: 'exists' }, set: { a: '{{ $.missing }}' } });
    const anyMiss = rule({
      when: { any: [{ path: '$.x', op: 'exists' }, { not: { path: '$.type', op: 'exists' } }] },
      set: { a: 'x' },
    });
    const { misses, matches } = new RuleSet([
      wrongTier,
      otherType,
      disabled,
      noTarget,
      allDropped,
      anyMiss,
    ]).match(event, null, opts);
    expect(matches).toEqual([]);
    const why = Object.fromEntries(misses.map((m) => [m.ruleId, m]));
    expect(why[wrongTier.id]).toMatchObject({
      reason: 'conditions',
      miss: { path: '$.customer.tier', op: 'eq', value: 'gold', actual: 'platinum', missing: false },
    });
    expect(why[otherType.id]).toMatchObject({
      reason: 'conditions',
      miss: { path: '$.type', actual: 'customer.updated' },
    });
    expect(why[disabled.id]).toMatchObject({ reason: 'disabled' });
    expect(why[noTarget.id]).toMatchObject({ reason: 'no_target' });
    expect(why[allDropped.id]).toMatchObject({ reason: 'nothing_to_set' });
    expect(why[anyMiss.id]).toMatchObject({
      miss: { any: [{ path: '$.x', missing: true }, { not: 'matched' }] },
    });
  });

  it('reports dropped attributes and keeps the rest', () => {
    const r = rule({
      when: { path: '$.type', op: 'exists' },
      set: { tier: '{{ $.customer.tier }}', gone: '{{ $.nope }}' },
    });
    const [m] = new RuleSet([r]).match(event, null, opts).matches;
    expect(m?.attributes).toEqual({ tier: 'platinum' });
    expect(m?.dropped).toEqual([{ attribute: 'gone', reason: 'missing_path', detail: '$.nope' }]);
  });

  it('indexes on $.type yet matches exactly what a full scan would', () => {
    const rules = ['customer.updated', 'order.shipped', 'incident.opened'].flatMap((t) => [
      rule({ when: { path: '$.type', op: 'eq', value: t }, set: { a: t } }),
      rule({
        when: {
          all: [
            { path: '$.type', op: 'eq', value: t },
            { path: '$.customer.tier', op: 'exists' },
          ],
        },
        set: { b: t },
      }),
    ]);
    rules.push(
      rule({ when: { path: '$.customer.tier', op: 'startsWith', value: 'plat' }, set: { c: 'untyped' } }),
    );
    const set = new RuleSet(rules);
    for (const type of ['customer.updated', 'order.shipped', 'nope', 7]) {
      const e = { ...event, type };
      const fast = set
        .match(e, null, { ...opts, explain: false })
        .matches.map((m) => m.ruleId)
        .sort();
      const full = set.match(e, null, opts);
      expect(fast).toEqual(full.matches.map((m) => m.ruleId).sort());
      expect(full.matches.length + full.misses.length).toBe(rules.length);
    }
  });
});
