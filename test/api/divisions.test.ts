import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatorOptions } from '../../src/emulator/types.js';
import { signedPost } from '../helpers/signed.js';
import { createSource, ENV, install, seedOrg, session, startWorld, type World } from '../helpers/world.js';

/**
 * Client-credentials roles reach only the divisions they are granted in (Home by default). A
 * provisioned install grants every division; a given Home-only client is refused on conversations
 * elsewhere, and the audit and the tenant health say why and what to do.
 */
let world: World;
afterEach(() => world?.close());

async function start(emulator: Omit<EmulatorOptions, 'clock'> = {}) {
  world = await startWorld({ delivery: true, emulator });
  const org = seedOrg(world, 'Acme');
  const sales = world.emu.createDivision({ orgId: org.orgId, name: 'Sales' });
  return { org, sales };
}

/** A rule on the default target (customer, else external) and one signed event for `conversationId`. */
async function sendEvent(conversationId: string, admin: string, tier = 'gold') {
  const source = await createSource(world, admin);
  const rule = await world.call('POST', '/v1/rules', {
    token: admin,
    body: {
      name: 'Tier',
      when: { path: '$.tier', op: 'exists' },
      target: { conversationId: '$.conversationId' },
      set: { tier: '{{ $.tier }}' },
    },
  });
  expect(rule.status).toBe(201);
  const res = await signedPost(
    world.app.url,
    source,
    { conversationId, tier },
    `msg-${conversationId}-${tier}`,
    Math.floor(world.clock.now() / 1000),
  );
  expect(res.status).toBe(202);
  return ((await res.json()) as { eventId: string }).eventId;
}

function auditOf(eventId: string, kind: string) {
  return world.app.all<{ outcome: string; detail: string }>(
    'select outcome, detail from audit_log where event_id = ? and kind = ? order by id',
    eventId,
    kind,
  );
}

async function tenant(token: string) {
  return (await (await world.call('GET', '/v1/tenant', { token })).json()) as {
    grant: {
      divisions: { total: number; missing: { id: string; name: string }[]; advice: string | null } | null;
    };
  };
}

function salesConversation(orgId: string, divisionId: string) {
  return world.emu.createConversation({
    orgId,
    divisionIds: [divisionId],
    participants: [{ id: 'cust', purpose: 'customer' }, { purpose: 'agent' }],
  });
}

describe('divisions', () => {
  it('a provisioned install grants every division: a conversation outside Home is delivered', async () => {
    const { org, sales } = await start();
    expect((await install(world, org, 'provisioned')).status).toBe(201);
    const [client] = world.emu.listOAuthClients(org.orgId).filter((c) => c.name !== 'given grant');
    const divisions = world.emu.listDivisions(org.orgId).map((d) => d.id);
    expect(client!.roleDivisions.map((rd) => rd.divisionId).sort()).toEqual(divisions.sort());
    const admin = await session(world, org.admin);
    expect((await tenant(admin)).grant.divisions).toMatchObject({ total: 2, missing: [], advice: null });

    const conv = salesConversation(org.orgId, sales.id);
    await sendEvent(conv.id, admin);
    await expect
      .poll(() => world.emu.getConversation(conv.id)?.participants[0]?.attributes)
      .toEqual({
        tier: 'gold',
      });
  });

  it('a given Home-only client is refused: patch.failed division_not_granted, and the health names the division', async () => {
    const { org, sales } = await start();
    expect((await install(world, org)).status).toBe(201);
    const admin = await session(world, org.admin);
    const health = (await tenant(admin)).grant.divisions;
    expect(health).toMatchObject({ total: 2, missing: [{ id: sales.id, name: 'Sales' }] });
    expect(health?.advice).toContain('Sales');

    const conv = salesConversation(org.orgId, sales.id);
    const eventId = await sendEvent(conv.id, admin);
    await expect.poll(async () => (await auditOf(eventId, 'patch.failed')).length).toBe(1);
    const detail = JSON.parse((await auditOf(eventId, 'patch.failed'))[0]!.detail);
    expect(detail).toMatchObject({
      reason: 'division_not_granted',
      status: 403,
      missingDivisions: [{ id: sales.id, name: 'Sales' }],
    });
    expect(detail.message).toContain('Sales');
    expect(world.emu.getConversation(conv.id)?.participants[0]?.attributes).toEqual({});
    const line = world.app.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'patch.failed');
    expect(line).toMatchObject({ level: 'warn', eventId, reason: 'division_not_granted' });
  });

  it('where Genesys hides the conversation with a 404, the bounded wait ends in division_not_granted', async () => {
    const { org, sales } = await start({ divisionRefusal: 404 });
    expect((await install(world, org)).status).toBe(201);
    const admin = await session(world, org.admin);
    const conv = salesConversation(org.orgId, sales.id);
    const eventId = await sendEvent(conv.id, admin);
    await expect
      .poll(async () => (await world.app.deps.delivery.queue.depth()).byStatus.pending ?? 0)
      .toBe(1);
    // Past the 2-minute visibility window (and past the recorded reading's freshness).
    world.clock.advance(10 * 60_000);
    world.app.deps.wakeDelivery();
    await expect.poll(async () => (await auditOf(eventId, 'patch.failed')).length).toBe(1);
    expect(JSON.parse((await auditOf(eventId, 'patch.failed'))[0]!.detail)).toMatchObject({
      reason: 'division_not_granted',
      status: 404,
    });
  });

  it('a division made after install is reached after a one-click re-grant', async () => {
    const { org } = await start();
    expect((await install(world, org, 'provisioned')).status).toBe(201);
    const support = world.emu.createDivision({ orgId: org.orgId, name: 'Support' });
    world.clock.advance(10 * 60_000);
    const admin = await session(world, org.admin);
    expect((await tenant(admin)).grant.divisions?.missing).toEqual([{ id: support.id, name: 'Support' }]);

    const noToken = await world.call('POST', '/v1/grant/divisions', { token: admin });
    expect(noToken.status).toBe(400);
    const regrant = await world.call('POST', '/v1/grant/divisions', {
      token: admin,
      headers: { 'x-genesys-token': org.admin },
    });
    expect(regrant.status, await regrant.clone().text()).toBe(200);
    expect(((await regrant.json()) as Awaited<ReturnType<typeof tenant>>).grant.divisions).toMatchObject({
      total: 3,
      missing: [],
    });
    const audit = await world.app.all<{ detail: string }>(
      "select detail from audit_log where kind = 'grant.updated' order by id",
    );
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({ divisions: 3, added: [support.id] });

    const conv = salesConversation(org.orgId, support.id);
    await sendEvent(conv.id, admin);
    await expect
      .poll(() => world.emu.getConversation(conv.id)?.participants[0]?.attributes)
      .toEqual({
        tier: 'gold',
      });
  });

  it('a client the org gave us is not changed: the re-grant answers 409 with what to do', async () => {
    const { org } = await start();
    expect((await install(world, org)).status).toBe(201);
    const admin = await session(world, org.admin);
    const res = await world.call('POST', '/v1/grant/divisions', {
      token: admin,
      headers: { 'x-genesys-token': org.admin },
    });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(((await res.json()) as { detail: string }).detail).toContain('Admin > OAuth');
  });
});

describe('provisioning through Genesys’ propagation delay', () => {
  it('waits, checking users/me every 3 s, and reports its progress until the role can be used', async () => {
    const { org } = await start({ roleGrantDelayMs: 5_000 });
    const requestId = 'install-7f1c2d3e-progress';
    const pending = world.call('POST', '/v1/install', {
      token: org.admin,
      body: { environment: ENV },
      headers: { 'x-request-id': requestId },
    });
    const progress = async () =>
      (await world.call('GET', `/v1/install/progress/${requestId}`)).json() as Promise<{
        step: string;
        checks: number;
        waitedMs: number;
        timeoutMs: number;
      }>;
    await expect.poll(() => world.clock.sleeping).toBe(1);
    expect(await progress()).toMatchObject({ step: 'waiting_for_role', checks: 1, timeoutMs: 60_000 });
    world.clock.advance(3_000);
    await expect.poll(async () => (await progress()).checks).toBe(2);
    await expect.poll(() => world.clock.sleeping).toBe(1);
    world.clock.advance(3_000);
    const res = await pending;
    expect(res.status).toBe(201);
    expect((await progress()).step).toBe('done');
    const usersMe = world.emu.requests.filter(
      (r) => r.path === '/api/v2/users/me' && r.query.includes('authorization'),
    );
    // One to sign the admin in, then three reads of the role (0 s, 3 s, 6 s).
    expect(usersMe.length).toBe(4);
  });

  it('gives up after 60 s: 504 with what to retry, the role removed and nothing installed', async () => {
    const { org } = await start({ roleGrantDelayMs: 10 * 60_000 });
    const pending = world.call('POST', '/v1/install', { token: org.admin, body: { environment: ENV } });
    for (let waited = 0; waited < 60_000; waited += 3_000) {
      await expect.poll(() => world.clock.sleeping).toBe(1);
      world.clock.advance(3_000);
    }
    const res = await pending;
    expect(res.status).toBe(504);
    const problem = (await res.json()) as { code: string; detail: string };
    expect(problem.code).toBe('provisioning_timeout');
    expect(problem.detail).toContain('install again');
    expect(world.emu.listRoles(org.orgId).filter((r) => r.name.startsWith('attribute-relay'))).toEqual([]);
    expect(world.emu.listOAuthClients(org.orgId).map((c) => c.name)).toEqual(['given grant']);
    expect(
      (await world.call('POST', '/v1/session', { token: org.admin, body: { environment: ENV } })).status,
    ).toBe(404);
  });
});
