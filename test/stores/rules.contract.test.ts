import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/types.js';
import { pgRuleStore } from '../../src/rules/pg-store.js';
import { type RuleBody, RuleBodySchema } from '../../src/rules/schemas.js';
import { type RuleStore, sqliteRuleStore } from '../../src/rules/store.js';
import { backends, type OnBackend } from './backends.js';

const T0 = Date.parse('2026-11-25T12:00:00Z');
const ada = { type: 'user' as const, id: 'u1', name: 'Ada' };
const bob = { type: 'user' as const, id: 'u2', name: 'Bob' };
const audit =
  (orgId: string, kind: AuditEntry['kind'], ruleId: string) =>
  (version?: number): AuditEntry => ({
    orgId,
    at: T0,
    kind,
    actor: ada,
    ruleIds: [ruleId],
    detail: { version },
  });
const body = (name: string): RuleBody =>
  RuleBodySchema.parse({
    name,
    when: { path: '$.tier', op: 'exists' },
    target: { conversationId: '$.conversationId' },
    set: { tier: '{{ $.tier }}' },
  });

describe.each(
  backends(
    (d) => sqliteRuleStore(d.db),
    (d) => pgRuleStore(d.db),
  ),
)('RuleStore on %s', (_name, open) => {
  let b: OnBackend<RuleStore>;
  beforeAll(async () => {
    b = await open();
  });
  afterAll(() => b?.close());

  const details = async (orgId: string) =>
    (
      await b.all<{ kind: string; detail: string }>(
        'select kind, detail from audit_log where org_id = ? order by seq',
        orgId,
      )
    ).map((r) => `${r.kind} ${JSON.parse(r.detail).version ?? '-'}`);

  it('creates version 1, saves versions 2 and 3, deletes; every version stays readable', async () => {
    const s = b.store;
    const stamps = [(await s.stamps(['org-a'])).get('org-a')];
    expect(
      await s.create('org-a', 'rule_1', body('v1'), T0, ada, audit('org-a', 'rule.created', 'rule_1')()),
    ).toEqual({
      id: 'rule_1',
      version: 1,
      createdAt: T0,
      updatedAt: T0,
      body: body('v1'),
    });
    stamps.push((await s.stamps(['org-a'])).get('org-a'));
    expect(
      await s.update('org-a', 'rule_1', body('v2'), T0 + 10, bob, audit('org-a', 'rule.updated', 'rule_1')),
    ).toEqual({
      id: 'rule_1',
      version: 2,
      createdAt: T0,
      updatedAt: T0 + 10,
      body: body('v2'),
    });
    stamps.push((await s.stamps(['org-a'])).get('org-a'));
    await s.update('org-a', 'rule_1', body('v3'), T0 + 20, ada, audit('org-a', 'rule.updated', 'rule_1'));
    stamps.push((await s.stamps(['org-a'])).get('org-a'));
    expect(await s.get('org-a', 'rule_1')).toEqual({
      id: 'rule_1',
      version: 3,
      createdAt: T0,
      updatedAt: T0 + 20,
      body: body('v3'),
    });
    expect(await s.delete('org-a', 'rule_1', T0 + 30, audit('org-a', 'rule.deleted', 'rule_1'))).toBe(true);
    stamps.push((await s.stamps(['org-a'])).get('org-a'));
    expect(await s.delete('org-a', 'rule_1', T0 + 40, audit('org-a', 'rule.deleted', 'rule_1'))).toBe(false);
    expect(
      await s.update('org-a', 'rule_1', body('v4'), T0 + 40, ada, audit('org-a', 'rule.updated', 'rule_1')),
    ).toBeUndefined();
    expect(await s.get('org-a', 'rule_1')).toBeUndefined();
    expect(await s.list('org-a')).toEqual([]);
    expect(await s.versions('org-a', 'rule_1')).toEqual([
      { version: 1, createdAt: T0, createdBy: ada },
      { version: 2, createdAt: T0 + 10, createdBy: bob },
      { version: 3, createdAt: T0 + 20, createdBy: ada },
    ]);
    expect(await s.version('org-a', 'rule_1', 2)).toEqual({
      version: 2,
      createdAt: T0 + 10,
      createdBy: bob,
      body: body('v2'),
    });
    expect(await s.version('org-a', 'rule_1', 4)).toBeUndefined();
    // The same stamps on both backends: counts, sum of versions, deletions.
    expect(stamps).toEqual(['0:0:0', '1:1:0', '1:2:0', '1:3:0', '1:3:1']);
    expect(await details('org-a')).toEqual([
      'rule.created -',
      'rule.updated 2',
      'rule.updated 3',
      'rule.deleted 3',
    ]);
  });

  it('scopes every read and write by org, and lists the current versions in id order', async () => {
    const s = b.store;
    await s.create('org-b', 'rule_b2', body('b2'), T0, ada, audit('org-b', 'rule.created', 'rule_b2')());
    await s.create('org-b', 'rule_b1', body('b1'), T0, ada, audit('org-b', 'rule.created', 'rule_b1')());
    await s.update(
      'org-b',
      'rule_b1',
      body('b1 again'),
      T0 + 1,
      ada,
      audit('org-b', 'rule.updated', 'rule_b1'),
    );
    expect((await s.list('org-b')).map((r) => [r.id, r.version, r.body.name])).toEqual([
      ['rule_b1', 2, 'b1 again'],
      ['rule_b2', 1, 'b2'],
    ]);
    expect(await s.get('org-c', 'rule_b1')).toBeUndefined();
    expect(
      await s.update('org-c', 'rule_b1', body('x'), T0, ada, audit('org-c', 'rule.updated', 'rule_b1')),
    ).toBeUndefined();
    expect(await s.delete('org-c', 'rule_b1', T0, audit('org-c', 'rule.deleted', 'rule_b1'))).toBe(false);
    expect(await s.versions('org-c', 'rule_b1')).toBeUndefined();
    expect(await s.version('org-c', 'rule_b1', 1)).toBeUndefined();
    expect(await details('org-c')).toEqual([]);
    // One read for several orgs; an org without rules has the empty stamp.
    expect(await s.stamps(['org-b', 'org-c'])).toEqual(
      new Map([
        ['org-b', '2:3:0'],
        ['org-c', '0:0:0'],
      ]),
    );
  });

  it('saves of one rule at once each write their own next version (several instances on PostgreSQL)', async () => {
    const s = b.store;
    await s.create('org-c', 'rule_c', body('c0'), T0, ada, audit('org-c', 'rule.created', 'rule_c')());
    const saved = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        s.update(
          'org-c',
          'rule_c',
          body(`c${i + 1}`),
          T0 + i + 1,
          ada,
          audit('org-c', 'rule.updated', 'rule_c'),
        ),
      ),
    );
    expect(saved.map((r) => r?.version).sort()).toEqual([2, 3, 4, 5, 6, 7]);
    expect((await s.versions('org-c', 'rule_c'))?.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect((await s.stamps(['org-c'])).get('org-c')).toBe('1:7:0');
    expect(await details('org-c')).toHaveLength(7);
  });
});
