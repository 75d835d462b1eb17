import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signedPost } from '../helpers/signed.js';
import {
  createSource,
  install,
  type SeededOrg,
  seedOrg,
  session,
  startWorld,
  type World,
} from '../helpers/world.js';

/** An org that stops holding the app: refused at ingest, paused in delivery, data kept; and back. */
const PRODUCT = 'attribute-relay-premium';
let world: World;
let org: SeededOrg;
let admin: string;
let source: { id: string; secret: string };

beforeEach(async () => {
  world = await startWorld({ env: { GENESYS_PRODUCT_ID: PRODUCT } });
  org = seedOrg(world, 'Acme');
  world.emu.setProducts(org.orgId, [PRODUCT]);
  expect((await install(world, org)).status).toBe(201);
  admin = await session(world, org.admin);
  source = await createSource(world, admin);
  const rule = await world.call('POST', '/v1/rules', {
    token: admin,
    body: {
      name: 'tier',
      when: { path: '$.tier', op: 'exists' },
      target: { conversationId: '$.c' },
      set: { tier: '{{ $.tier }}' },
    },
  });
  expect(rule.status).toBe(201);
});
afterEach(() => world.close());

const send = (body: unknown, id: string) =>
  signedPost(world.app.url, source, body, id, Math.floor(world.clock.now() / 1000));
const kinds = (kind: string) =>
  world.app.database.sqlite.prepare('select count(*) from audit_log where kind = ?').pluck().get(kind);
const license = async () =>
  (
    (await (await world.call('GET', '/v1/tenant', { token: admin })).json()) as {
      license: { status: string };
    }
  ).license.status;

describe('licensing of installed orgs', () => {
  it('a product that disappears stops ingest and delivery; when it returns, both resume', async () => {
    const conv = world.emu.createConversation({ orgId: org.orgId, participants: [{ purpose: 'customer' }] });
    expect((await send({ c: conv.id, tier: 'gold' }, 'before')).status).toBe(202);
    const { delivery, licensing } = world.app.deps;
    await delivery.processor.drain();

    // The org stops holding the product; the re-check comes due after 6 hours.
    world.emu.setProducts(org.orgId, []);
    world.clock.advance(6 * 3_600_000 + 1);
    await licensing.recheckDue();
    admin = await session(world, org.admin); // the old session expired meanwhile
    expect(await license()).toBe('unlicensed');
    expect(kinds('tenant.unlicensed')).toBe(1);

    const events = () => world.app.database.sqlite.prepare('select count(*) from events').pluck().get();
    const before = events();
    const refused = await send({ c: conv.id, tier: 'platinum' }, 'during');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'tenant_unlicensed' });
    expect(events()).toBe(before);
    // The job accepted before waits: nothing goes to Genesys for an unlicensed org.
    await delivery.runner.runUntilEmpty();
    expect(world.emu.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
    expect(world.app.database.sqlite.prepare('select status from jobs').pluck().all()).toEqual(['pending']);

    // Back: the next sign-in reads the licence again at once.
    world.emu.setProducts(org.orgId, [PRODUCT]);
    admin = await session(world, org.admin);
    expect(await license()).toBe('licensed');
    expect(kinds('tenant.relicensed')).toBe(1);
    await delivery.runner.runUntilEmpty();
    expect(world.emu.getConversation(conv.id)?.participants[0]?.attributes).toEqual({ tier: 'gold' });
    expect((await send({ c: conv.id, tier: 'platinum' }, 'after')).status).toBe(202);
  });

  it('a check that cannot reach Genesys changes nothing', async () => {
    world.emu.injectFault({ path: '/api/v2/authorization/products', status: 503, times: 5 });
    world.clock.advance(6 * 3_600_000 + 1);
    await world.app.deps.licensing.recheckDue();
    admin = await session(world, org.admin);
    expect(await license()).toBe('licensed');
    expect(kinds('tenant.unlicensed')).toBe(0);
  });
});
