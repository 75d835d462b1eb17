import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/types.js';
import { install, type SeededOrg, seedOrg, session, startWorld, type World } from '../helpers/world.js';

let world: World;
let org: SeededOrg;
let viewer: string;

type Page = {
  items: Array<{ id: string; at: string; kind: string; ruleIds: string[]; conversationId: string | null }>;
  nextCursor: string | null;
};

beforeEach(async () => {
  world = await startWorld();
  org = seedOrg(world, 'Acme');
  expect((await install(world, org)).status).toBe(201);
  viewer = await session(world, org.viewer);
});
afterEach(() => world.close());

/** Rows as delivery will write them (that code path arrives later; the store is the same). */
async function seed(entries: Array<Partial<AuditEntry>>) {
  const base = world.clock.now();
  // One at a time: each row chains to the one before.
  for (const [i, e] of entries.entries()) {
    await world.app.stores.appendAudit({
      orgId: org.orgId,
      at: base + (i + 1) * 1000,
      kind: 'patch.applied',
      actor: { type: 'system' },
      outcome: 'applied',
      ...e,
    });
  }
}

const page = async (query: string, token = viewer) => {
  const res = await world.call('GET', `/v1/audit${query}`, { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Page;
};

describe('GET /v1/audit', () => {
  it('lists the org’s rows newest first in the contract’s item shape', async () => {
    await seed([
      {
        conversationId: 'c-1',
        ruleIds: ['rule_a'],
        eventId: 'evt_1',
        sourceId: 'src_1',
        participantId: 'p-1',
        detail: { status: 202 },
      },
    ]);
    const { items, nextCursor } = await page('');
    expect(nextCursor).toBeNull();
    expect(items.map((i) => i.kind)).toEqual(['patch.applied', 'tenant.installed']);
    expect(items[0]).toEqual({
      id: expect.stringMatching(/^aud_[0-9a-z]{26}$/),
      at: new Date(world.clock.now() + 1000).toISOString(),
      kind: 'patch.applied',
      actor: { type: 'system' },
      sourceId: 'src_1',
      eventId: 'evt_1',
      ruleIds: ['rule_a'],
      conversationId: 'c-1',
      participantId: 'p-1',
      outcome: 'applied',
      detail: { status: 202 },
      seq: 2,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(items[1]).toMatchObject({ actor: { type: 'user', id: org.adminUserId }, outcome: 'ok' });
  });

  it('pages with a keyset cursor: every row once, in order, up to limit per page', async () => {
    await seed(Array.from({ length: 11 }, (_, i) => ({ conversationId: `c-${i}` })));
    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const p: Page = await page(`?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(p.items.length).toBeLessThanOrEqual(4);
      seen.push(...p.items.map((i) => i.id));
      cursor = p.nextCursor;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(12);
    expect([...seen].sort().reverse()).toEqual(seen);
    expect(new Set(seen).size).toBe(12);
  });

  it('filters by kind, outcome, conversation, rule, source, event and time', async () => {
    await seed([
      { kind: 'patch.applied', conversationId: 'c-1', ruleIds: ['rule_a', 'rule_b'] },
      { kind: 'patch.skipped', outcome: 'no_change', conversationId: 'c-1', ruleIds: ['rule_b'] },
      { kind: 'patch.failed', outcome: 'failed', conversationId: 'c-2', sourceId: 'src_x', eventId: 'evt_9' },
    ]);
    const kinds = async (q: string) => (await page(q)).items.map((i) => i.kind);
    expect(await kinds('?kind=patch.skipped,patch.failed')).toEqual(['patch.failed', 'patch.skipped']);
    expect(await kinds('?outcome=no_change')).toEqual(['patch.skipped']);
    expect(await kinds('?conversationId=c-1')).toEqual(['patch.skipped', 'patch.applied']);
    expect(await kinds('?ruleId=rule_a')).toEqual(['patch.applied']);
    expect(await kinds('?ruleId=rule_b')).toEqual(['patch.skipped', 'patch.applied']);
    expect(await kinds('?sourceId=src_x')).toEqual(['patch.failed']);
    expect(await kinds('?eventId=evt_9')).toEqual(['patch.failed']);
    const t = world.clock.now();
    const from = new Date(t + 2000).toISOString();
    const to = new Date(t + 3000).toISOString();
    expect(await kinds(`?from=${from}&to=${to}`)).toEqual(['patch.skipped']);
    expect(await kinds(`?from=${from}`)).toEqual(['patch.failed', 'patch.skipped']);
  });

  it('a rule filter pages, narrows with other filters and time, and follows rows written and deleted', async () => {
    const base = world.clock.now();
    await seed(
      Array.from({ length: 9 }, (_, i) => ({
        ruleIds: i % 3 === 0 ? ['rule_a', 'rule_b'] : ['rule_b'],
        outcome: i % 2 ? 'no_change' : 'applied',
        conversationId: `c-${i}`,
      })),
    );
    const conversations = async (q: string) => (await page(q)).items.map((i) => i.conversationId);
    const seen: Array<string | null> = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const p: Page = await page(`?ruleId=rule_b&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...p.items.map((i) => i.conversationId));
      cursor = p.nextCursor;
    }
    expect(seen).toEqual(['c-8', 'c-7', 'c-6', 'c-5', 'c-4', 'c-3', 'c-2', 'c-1', 'c-0']);
    expect(await conversations('?ruleId=rule_a')).toEqual(['c-6', 'c-3', 'c-0']);
    expect(await conversations('?ruleId=rule_b&outcome=no_change&limit=2')).toEqual(['c-7', 'c-5']);
    const from = new Date(base + 2000).toISOString();
    const to = new Date(base + 5000).toISOString();
    expect(await conversations(`?ruleId=rule_b&from=${from}&to=${to}`)).toEqual(['c-3', 'c-2', 'c-1']);

    // The rule index is kept by the database itself, whoever writes or deletes a row.
    const indexed = async () =>
      (
        await world.app.all<{ n: number }>(
          'select count(*) as n from audit_rule_ids where org_id = ?',
          org.orgId,
        )
      )[0]!.n;
    expect(await indexed()).toBe(12);
    await world.app.run("update audit_log set rule_ids = '[\"rule_c\"]' where conversation_id = 'c-4'");
    expect(await conversations('?ruleId=rule_c')).toEqual(['c-4']);
    await world.app.run('delete from audit_log where org_id = ? and rule_ids = \'["rule_b"]\'', org.orgId);
    expect(await indexed()).toBe(7);
    expect(await conversations('?ruleId=rule_b')).toEqual(['c-6', 'c-3', 'c-0']);
  });

  it('422 with the parameter’s name for bad filters', async () => {
    for (const [query, path] of [
      ['?limit=501', 'limit'],
      ['?limit=0', 'limit'],
      ['?kind=patch.exploded', 'kind'],
      ['?from=yesterday', 'from'],
      ['?cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ] as const) {
      const res = await world.call('GET', `/v1/audit${query}`, { token: viewer });
      expect(res.status, query).toBe(422);
      expect(((await res.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toEqual([
        path,
      ]);
    }
  });

  it('401 without a session', async () => {
    expect((await world.call('GET', '/v1/audit')).status).toBe(401);
  });
});
