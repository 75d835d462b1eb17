import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { install, type SeededOrg, seedOrg, session, startWorld, type World } from '../helpers/world.js';

let world: World;
let org: SeededOrg;
let admin: string;
let viewer: string;
let sourceId: string;
let sourceToken: string;

const platinum = (over: Record<string, unknown> = {}) => ({
  name: 'Platinum tier from CRM',
  sourceId,
  when: {
    all: [
      { path: '$.type', op: 'eq', value: 'customer.updated' },
      { path: '$.customer.tier', op: 'in', value: ['gold', 'platinum'] },
    ],
  },
  target: { conversationId: '$.interactionId', participant: { purpose: 'customer' } },
  set: { customer_tier: '{{ $.customer.tier }}', last_purchase: '{{ $.lastPurchase }}' },
  ...over,
});

const event = {
  type: 'customer.updated',
  interactionId: 'conv-1',
  customer: { tier: 'platinum' },
  lastPurchase: '2026-11-24',
};

beforeEach(async () => {
  world = await startWorld();
  org = seedOrg(world, 'Acme');
  expect((await install(world, org)).status).toBe(201);
  admin = await session(world, org.admin);
  viewer = await session(world, org.viewer);
  const src = await world.call('POST', '/v1/sources', {
    token: admin,
    body: { name: 'CRM', auth: 'bearer' },
  });
  ({ id: sourceId, secret: sourceToken } = (await src.json()) as { id: string; secret: string });
});
afterEach(() => world.close());

async function create(body: unknown = platinum()) {
  const res = await world.call('POST', '/v1/rules', { token: admin, body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Record<string, unknown> & { id: string; version: number };
}

const errorPaths = async (res: Response) => {
  expect(res.status).toBe(422);
  return ((await res.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path).sort();
};

describe('rule CRUD and versions', () => {
  it('creates version 1 with defaults, lists and reads it', async () => {
    const rule = await create();
    expect(rule).toMatchObject({
      id: expect.stringMatching(/^rule_[0-9a-z]{26}$/),
      version: 1,
      enabled: true,
      priority: 100,
      sourceId,
    });
    const list = (await (await world.call('GET', '/v1/rules', { token: viewer })).json()) as {
      items: Array<{ id: string }>;
    };
    expect(list.items.map((r) => r.id)).toEqual([rule.id]);
    expect(await (await world.call('GET', `/v1/rules/${rule.id}`, { token: viewer })).json()).toEqual(rule);
  });

  it('bumps the version on each save that changes something, keeping every version readable', async () => {
    const rule = await create();
    world.clock.advance(1000);
    const v2 = await world.call('PUT', `/v1/rules/${rule.id}`, {
      token: admin,
      body: platinum({ priority: 200 }),
    });
    expect(((await v2.json()) as { version: number }).version).toBe(2);
    const same = await world.call('PUT', `/v1/rules/${rule.id}`, {
      token: admin,
      body: platinum({ priority: 200 }),
    });
    expect(((await same.json()) as { version: number }).version).toBe(2);
    await world.call('PUT', `/v1/rules/${rule.id}`, {
      token: admin,
      body: platinum({ priority: 200, enabled: false, name: 'Renamed' }),
    });

    const versions = (await (
      await world.call('GET', `/v1/rules/${rule.id}/versions`, { token: viewer })
    ).json()) as {
      items: Array<{ version: number; createdBy: { id: string } }>;
    };
    expect(versions.items.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(versions.items[0]?.createdBy).toMatchObject({ type: 'user', id: org.adminUserId });
    const first = (await (
      await world.call('GET', `/v1/rules/${rule.id}/versions/1`, { token: viewer })
    ).json()) as {
      rule: { priority: number; name: string };
    };
    expect(first.rule).toMatchObject({ priority: 100, name: 'Platinum tier from CRM' });

    const updates = await world.app.all<{ detail: string }>(
      "select detail from audit_log where kind = 'rule.updated' order by id",
    );
    expect(updates.map((u) => JSON.parse(u.detail))).toEqual([
      { version: 2, changed: ['priority'] },
      { version: 3, changed: ['name', 'enabled'] },
    ]);
  });

  it('deletes a rule: gone from the list and 404, its versions still readable', async () => {
    const rule = await create();
    expect((await world.call('DELETE', `/v1/rules/${rule.id}`, { token: admin })).status).toBe(204);
    expect((await world.call('GET', `/v1/rules/${rule.id}`, { token: viewer })).status).toBe(404);
    expect((await world.call('PUT', `/v1/rules/${rule.id}`, { token: admin, body: platinum() })).status).toBe(
      404,
    );
    expect((await world.call('DELETE', `/v1/rules/${rule.id}`, { token: admin })).status).toBe(404);
    expect((await world.call('GET', `/v1/rules/${rule.id}/versions/1`, { token: viewer })).status).toBe(200);
    const kinds = await world.app.all("select kind from audit_log where kind like 'rule.%' order by id");
    expect(kinds).toEqual([{ kind: 'rule.created' }, { kind: 'rule.deleted' }]);
  });

  it('viewers read and dry-run but may not save', async () => {
    const rule = await create();
    expect((await world.call('POST', '/v1/rules', { token: viewer, body: platinum() })).status).toBe(403);
    expect(
      (await world.call('PUT', `/v1/rules/${rule.id}`, { token: viewer, body: platinum() })).status,
    ).toBe(403);
    expect((await world.call('DELETE', `/v1/rules/${rule.id}`, { token: viewer })).status).toBe(403);
    expect((await world.call('POST', '/v1/rules/test', { token: viewer, body: { event } })).status).toBe(200);
  });
});

describe('rule validation', () => {
  it('422 with every problem’s path', async () => {
    const res = await world.call('POST', '/v1/rules', {
      token: admin,
      body: {
        name: '',
        when: {
          all: [
            { path: '$.type', op: 'eq', value: 'x' },
            { path: '$.a', op: 'between', value: 1 },
            { path: '$..deep', op: 'exists' },
            { path: '$.n', op: 'gt', value: 'soon' },
            { any: [] },
            { path: '$.tier', op: 'in', value: 'gold' },
          ],
        },
        target: { conversationId: '$[?(@.x)]' },
        set: { ' bad name': 'x', ok: '{{ $.a', long: 'y'.repeat(5000) },
      },
    });
    expect(await errorPaths(res)).toEqual([
      'name',
      'set. bad name',
      'set.long',
      'set.ok',
      'target.conversationId',
      'when.all[1].op',
      'when.all[2].path',
      'when.all[3].value',
      'when.all[4].any',
      'when.all[5].value',
    ]);
    expect(await world.app.all('select count(*) as n from rules')).toEqual([{ n: 0 }]);
  });

  it('refuses a set with no or too many attributes, too deep nesting, and a source of another org', async () => {
    expect(
      await errorPaths(await world.call('POST', '/v1/rules', { token: admin, body: platinum({ set: {} }) })),
    ).toEqual(['set']);
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`a${i}`, 'x']));
    expect(
      await errorPaths(
        await world.call('POST', '/v1/rules', { token: admin, body: platinum({ set: many }) }),
      ),
    ).toEqual(['set']);
    let deep: unknown = { path: '$.a', op: 'exists' };
    for (let i = 0; i < 12; i++) deep = { not: deep };
    const paths = await errorPaths(
      await world.call('POST', '/v1/rules', { token: admin, body: platinum({ when: deep }) }),
    );
    expect(paths).toEqual([`when${'.not'.repeat(10)}`]);
    const other = seedOrg(world, 'Other');
    await install(world, other);
    const theirs = await world.call('POST', '/v1/sources', {
      token: await session(world, other.admin),
      body: { name: 'x', auth: 'bearer' },
    });
    const theirId = ((await theirs.json()) as { id: string }).id;
    expect(
      await errorPaths(
        await world.call('POST', '/v1/rules', { token: admin, body: platinum({ sourceId: theirId }) }),
      ),
    ).toEqual(['sourceId']);
  });
});

describe('POST /v1/rules/test', () => {
  it('shows the exact PATCH body of a matching stored rule, and why another missed', async () => {
    const rule = await create();
    const other = await create(
      platinum({
        name: 'Orders',
        when: { path: '$.type', op: 'eq', value: 'order.shipped' },
        set: { order: 'x' },
      }),
    );
    const res = await world.call('POST', '/v1/rules/test', { token: viewer, body: { event, sourceId } });
    expect(res.status).toBe(200);
    const out = (await res.json()) as { patches: unknown[]; misses: unknown[]; matches: unknown[] };
    expect(out.patches).toEqual([
      {
        target: { conversationId: 'conv-1', participant: { purpose: 'customer' } },
        body: { attributes: { customer_tier: 'platinum', last_purchase: '2026-11-24' } },
        from: {
          customer_tier: { ruleId: rule.id, version: 1 },
          last_purchase: { ruleId: rule.id, version: 1 },
        },
        rules: [{ ruleId: rule.id, version: 1 }],
      },
    ]);
    expect(out.misses).toEqual([
      expect.objectContaining({
        ruleId: other.id,
        reason: 'conditions',
        miss: {
          path: '$.type',
          op: 'eq',
          value: 'order.shipped',
          actual: 'customer.updated',
          missing: false,
        },
      }),
    ]);
    // A dry run stores nothing and calls no one.
    expect(
      await world.app.all(
        "select count(*) as n from audit_log where kind like 'event.%' or kind like 'patch.%'",
      ),
    ).toEqual([{ n: 0 }]);
  });

  it('tries an unsaved rule from the editor, reporting dropped attributes', async () => {
    const res = await world.call('POST', '/v1/rules/test', {
      token: admin,
      body: {
        event,
        rule: platinum({ sourceId: null, set: { tier: '{{ $.customer.tier }}', gone: '{{ $.nope }}' } }),
      },
    });
    const out = (await res.json()) as { matches: Array<{ ruleId: string; dropped: unknown[] }> };
    expect(out.matches[0]?.ruleId).toBe('unsaved');
    expect(out.matches[0]?.dropped).toEqual([
      { attribute: 'gone', reason: 'missing_path', detail: '$.nope' },
    ]);
  });

  it('422 for an invalid unsaved rule (paths under rule.) or a non-object event', async () => {
    const bad = await world.call('POST', '/v1/rules/test', {
      token: admin,
      body: { event, rule: platinum({ when: { path: '$.a', op: 'nope' } }) },
    });
    expect(await errorPaths(bad)).toEqual(['rule.when.op']);
    expect(
      await errorPaths(await world.call('POST', '/v1/rules/test', { token: admin, body: { event: [1] } })),
    ).toEqual(['event']);
  });

  it('backtests a draft against the source’s last N stored events: counts, attributes, samples, nothing sent', async () => {
    const tiers = ['gold', 'silver', 'platinum', 'platinum'];
    for (const [i, tier] of tiers.entries()) {
      const res = await fetch(`${world.app.url}/v1/hooks/${sourceId}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sourceToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...event, customer: { tier }, lastPurchase: `p${i}` }),
      });
      expect(res.status).toBe(202);
    }
    const stored = () =>
      world.app.all('select (select count(*) from audit_log) + (select count(*) from jobs) as n');
    const before = await stored();
    const run = async (body: unknown) => {
      const res = await world.call('POST', '/v1/rules/test', { token: viewer, body });
      expect(res.status, await res.clone().text()).toBe(200);
      return ((await res.json()) as { backtest: Record<string, unknown> }).backtest;
    };
    const all = await run({ rule: platinum(), recent: 10 });
    expect(all).toMatchObject({ considered: 4, matched: 3, missed: 1 });
    expect(all.attributes).toEqual([
      { name: 'customer_tier', events: 3, sampleValues: ['platinum', 'gold'] },
      { name: 'last_purchase', events: 3, sampleValues: ['p3', 'p2', 'p0'] },
    ]);
    expect(all.samples).toMatchObject({
      matched: [
        { attributes: { customer_tier: 'platinum', last_purchase: 'p3' } },
        { attributes: { customer_tier: 'platinum', last_purchase: 'p2' } },
        { attributes: { customer_tier: 'gold', last_purchase: 'p0' } },
      ],
      missed: [{ reasons: ['$.customer.tier is "silver" (wanted in ["gold","platinum"])'] }],
    });
    expect(await run({ rule: platinum(), recent: 2 })).toMatchObject({
      considered: 2,
      matched: 2,
      missed: 0,
    });
    expect(await stored()).toEqual(before);
    expect(world.emu.requests.filter((r) => r.path.includes('/conversations/'))).toEqual([]);
  });

  it('422 for a backtest without a rule, past 1,000 events, or with an event too', async () => {
    const paths = async (body: unknown) =>
      errorPaths(await world.call('POST', '/v1/rules/test', { token: admin, body }));
    expect(await paths({ recent: 10 })).toEqual(['rule']);
    expect(await paths({ rule: platinum(), recent: 1001 })).toEqual(['recent']);
    expect(await paths({ rule: platinum(), recent: 5, event })).toEqual(['recent']);
    expect(await paths({ rule: platinum() })).toEqual(['event']);
  });

  it('attribute names as Genesys allows them: spaces inside are fine, control characters and edge spaces are not', async () => {
    const res = await world.call('POST', '/v1/rules/test', {
      token: viewer,
      body: {
        event,
        rule: platinum({
          sourceId: null,
          set: { 'Account Balance': '{{ $.customer.tier }}', 'Tier (CRM)': 'x' },
        }),
      },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const out = (await res.json()) as { patches: Array<{ body: { attributes: Record<string, string> } }> };
    expect(out.patches[0]?.body.attributes).toEqual({ 'Account Balance': 'platinum', 'Tier (CRM)': 'x' });
    const bad = await world.call('POST', '/v1/rules', {
      token: admin,
      body: platinum({ set: { 'tab\there': 'x', 'trailing ': 'x', ok: 'x' } }),
    });
    expect(await errorPaths(bad)).toEqual(['set.tab\there', 'set.trailing ']);
  });

  it('a dry run without sourceId still evaluates source-bound rules, and names the source apart', async () => {
    const bound = await create(); // listens to the CRM source
    const run = async (body: unknown) =>
      (
        (await (await world.call('POST', '/v1/rules/test', { token: viewer, body })).json()) as {
          matches: unknown[];
          misses: Array<{ ruleId: string; reason: string; detail?: string; miss?: unknown }>;
        }
      ).misses.find((m) => m.ruleId === bound.id);
    expect(await run({ event })).toMatchObject({
      reason: 'other_source',
      detail: `the rule listens to ${sourceId}: its conditions hold, so with that source it would match`,
    });
    expect(await run({ event: { ...event, customer: { tier: 'silver' } } })).toMatchObject({
      reason: 'other_source',
      detail: `the rule listens to ${sourceId}: and its conditions do not hold`,
      miss: { path: '$.customer.tier', actual: 'silver' },
    });
  });

  it('the longest attribute value is the org’s setting (2,000 by default)', async () => {
    const long = { ...event, lastPurchase: 'x'.repeat(1500) };
    const dropped = async () =>
      (
        (await (
          await world.call('POST', '/v1/rules/test', {
            token: viewer,
            body: { event: long, rule: platinum({ sourceId: null }) },
          })
        ).json()) as { matches: Array<{ dropped: Array<{ attribute: string; reason: string }> }> }
      ).matches[0]?.dropped;
    expect(await dropped()).toEqual([]);
    const res = await world.call('PATCH', '/v1/tenant', {
      token: admin,
      body: { settings: { maxAttributeValueLength: 1000 } },
    });
    expect(res.status).toBe(200);
    expect(await dropped()).toEqual([
      expect.objectContaining({ attribute: 'last_purchase', reason: 'too_long' }),
    ]);
  });
});
