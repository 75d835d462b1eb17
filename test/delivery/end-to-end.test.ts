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

/** The whole path in one server: signed event → 202 → rules → job → PATCH in Genesys → audit. */
let world: World;
let org: SeededOrg;
let admin: string;
let source: { id: string; secret: string };

beforeEach(async () => {
  world = await startWorld({ delivery: true });
  org = seedOrg(world, 'Acme');
  expect((await install(world, org)).status).toBe(201);
  admin = await session(world, org.admin);
  source = await createSource(world, admin);
  const rule = await world.call('POST', '/v1/rules', {
    token: admin,
    body: {
      name: 'Platinum tier from CRM',
      sourceId: source.id,
      when: {
        all: [
          { path: '$.type', op: 'eq', value: 'customer.updated' },
          { path: '$.customer.tier', op: 'in', value: ['gold', 'platinum'] },
        ],
      },
      target: { conversationId: '$.interactionId', participant: { purpose: 'customer' } },
      set: { customer_tier: '{{ $.customer.tier }}', last_purchase: '{{ $.lastPurchase }}' },
    },
  });
  expect(rule.status).toBe(201);
});
afterEach(() => world.close());

function send(body: unknown, msgId: string) {
  return signedPost(world.app.url, source, body, msgId, Math.floor(world.clock.now() / 1000));
}

describe('end to end', () => {
  it('delivers a signed event to the participant in Genesys, and the tenant shows it', async () => {
    const conv = world.emu.createConversation({
      orgId: org.orgId,
      participants: [{ purpose: 'customer', attributes: { existing: 'kept' } }, { purpose: 'agent' }],
    });
    const res = await send(
      {
        type: 'customer.updated',
        interactionId: conv.id,
        customer: { tier: 'platinum' },
        lastPurchase: '2026-11-24',
      },
      'msg-e2e-1',
    );
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };

    await expect
      .poll(() => world.emu.getConversation(conv.id)?.participants[0]?.attributes)
      .toEqual({ existing: 'kept', customer_tier: 'platinum', last_purchase: '2026-11-24' });
    const kinds = async () =>
      (
        await world.app.all<{ kind: string }>(
          'select kind from audit_log where event_id = ? order by id',
          eventId,
        )
      ).map((r) => r.kind);
    await expect.poll(kinds).toEqual(['event.received', 'event.matched', 'patch.applied']);
    // One log line per outcome, for operators who read logs rather than the API.
    const outcomeLines = world.app.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'patch.applied');
    expect(outcomeLines).toEqual([
      expect.objectContaining({
        level: 'info',
        orgId: org.orgId,
        eventId,
        conversationId: conv.id,
        outcome: 'applied',
        attempts: 1,
      }),
    ]);

    const tenant = (await (await world.call('GET', '/v1/tenant', { token: admin })).json()) as {
      delivery: { pending: number; lastAppliedAt: string | null };
    };
    expect(tenant.delivery.pending).toBe(0);
    expect(tenant.delivery.lastAppliedAt).toBe(new Date(world.clock.now()).toISOString());
    const metrics = await (await fetch(`${world.app.url}/metrics`)).text();
    expect(metrics).toContain('relay_patches_total{outcome="applied"} 1');
    expect(metrics).toContain('relay_queue_jobs{status="succeeded"} 1');
    expect(metrics).toContain('relay_queue_oldest_pending_age_seconds 0');
    expect(metrics).toContain('relay_events_received_total{outcome="accepted"} 1');
  });

  it('shows a waiting delivery in the tenant’s backlog', async () => {
    // A conversation id not visible yet: the job waits (up to 2 minutes).
    const res = await send(
      {
        type: 'customer.updated',
        interactionId: 'b4e0c3c2-1111-4222-8333-444455556666',
        customer: { tier: 'gold' },
      },
      'msg-e2e-2',
    );
    expect(res.status).toBe(202);
    const pending = async () =>
      (
        (await (await world.call('GET', '/v1/tenant', { token: admin })).json()) as {
          delivery: { pending: number };
        }
      ).delivery.pending;
    await expect.poll(pending).toBe(1);
    world.clock.advance(30_000);
    const tenant = (await (await world.call('GET', '/v1/tenant', { token: admin })).json()) as {
      delivery: { oldestPendingAgeMs: number };
    };
    expect(tenant.delivery.oldestPendingAgeMs).toBe(30_000);
  });

  it('GET /v1/events/{id} shows the event, its deliveries and attempts; a replay runs today’s rules again', async () => {
    const conv = world.emu.createConversation({ orgId: org.orgId, participants: [{ purpose: 'customer' }] });
    const res = await send(
      { type: 'customer.updated', interactionId: conv.id, customer: { tier: 'gold' }, lastPurchase: 'x' },
      'msg-e2e-3',
    );
    const { eventId } = (await res.json()) as { eventId: string };
    type Detail = {
      event: { id: string; state: string; body: unknown; replays: number };
      deliveries: Array<{ status: string; attributes: Record<string, string>; rules: unknown[] }>;
      attempts: Array<{ operation: string; status: number }>;
      history: Array<{ kind: string; outcome: string }>;
    };
    const viewer = await session(world, org.viewer);
    const detail = async () =>
      (await (await world.call('GET', `/v1/events/${eventId}`, { token: viewer })).json()) as Detail;
    await expect
      .poll(async () => (await detail()).history.map((h) => h.kind))
      .toEqual(['event.received', 'event.matched', 'patch.applied']);
    const d = await detail();
    expect(d.event).toMatchObject({
      id: eventId,
      state: 'processed',
      replays: 0,
      body: { customer: { tier: 'gold' } },
    });
    expect(d.deliveries).toEqual([
      expect.objectContaining({
        status: 'succeeded',
        attributes: { customer_tier: 'gold', last_purchase: 'x' },
        rules: [expect.objectContaining({ version: 1 })],
      }),
    ]);
    expect(d.attempts.map((a) => [a.operation, a.status])).toEqual([
      ['getConversation', 200],
      ['patchParticipantAttributes', 202],
    ]);

    expect((await world.call('POST', `/v1/events/${eventId}/replay`, { token: viewer })).status).toBe(403);
    expect((await world.call('POST', '/v1/events/evt_nope/replay', { token: admin })).status).toBe(404);
    const replay = await world.call('POST', `/v1/events/${eventId}/replay`, { token: admin });
    expect(replay.status).toBe(202);
    expect(await replay.json()).toEqual({ eventId, replay: 1 });
    // The attributes are already there: the replay's delivery changes nothing and says so.
    await expect
      .poll(async () => (await detail()).history.map((h) => `${h.kind}:${h.outcome}`))
      .toEqual([
        'event.received:accepted',
        'event.matched:matched',
        'patch.applied:applied',
        'event.replayed:queued',
        'event.matched:matched',
        'patch.skipped:no_change',
      ]);
    expect((await detail()).deliveries).toHaveLength(2);
  });

  it('GET /v1/events lists recent events newest first with their outcome, by conversation and in pages', async () => {
    const a = world.emu.createConversation({ orgId: org.orgId, participants: [{ purpose: 'customer' }] });
    const b = world.emu.createConversation({ orgId: org.orgId, participants: [{ purpose: 'customer' }] });
    const ids: string[] = [];
    const post = async (body: unknown, msg: string) => {
      ids.push(((await (await send(body, msg)).json()) as { eventId: string }).eventId);
    };
    await post(
      { type: 'customer.updated', interactionId: a.id, customer: { tier: 'gold' }, lastPurchase: '1' },
      'l1',
    );
    await post(
      { type: 'customer.updated', interactionId: b.id, customer: { tier: 'gold' }, lastPurchase: '2' },
      'l2',
    );
    await post({ type: 'other' }, 'l3');
    const viewer = await session(world, org.viewer);
    type Page = {
      items: Array<{ id: string; outcome: string; conversationIds: string[]; sourceId: string }>;
      nextCursor: string | null;
    };
    const list = async (query: string) =>
      (await (await world.call('GET', `/v1/events${query}`, { token: viewer })).json()) as Page;
    await expect
      .poll(async () => (await list('')).items.map((e) => [e.id, e.outcome]))
      .toEqual([
        [ids[2], 'unmatched'],
        [ids[1], 'applied'],
        [ids[0], 'applied'],
      ]);
    const byConversation = await list(`?conversationId=${a.id}`);
    expect(byConversation.items).toEqual([
      expect.objectContaining({ id: ids[0], sourceId: source.id, conversationIds: [a.id] }),
    ]);
    const first = await list('?limit=2');
    expect(first.items.map((e) => e.id)).toEqual([ids[2], ids[1]]);
    const second = await list(`?limit=2&cursor=${first.nextCursor}`);
    expect(second).toEqual({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
    expect((await list('?sourceId=src_none')).items).toEqual([]);
    expect((await world.call('GET', '/v1/events?cursor=nope', { token: viewer })).status).toBe(422);
    expect((await world.call('GET', '/v1/events')).status).toBe(401);
  });

  it('by default a rule finds the customer of an agent-placed call: the external party', async () => {
    const res = await world.call('POST', '/v1/rules', {
      token: admin,
      body: {
        name: 'Case id',
        when: { path: '$.type', op: 'eq', value: 'case.opened' },
        target: { conversationId: '$.interactionId' },
        set: { 'Case Id': '{{ $.caseId }}' },
      },
    });
    expect(((await res.json()) as { target: unknown }).target).toEqual({
      conversationId: '$.interactionId',
      participant: { purpose: ['customer', 'external'] },
    });
    const outbound = world.emu.createConversation({
      orgId: org.orgId,
      participants: [{ purpose: 'agent' }, { purpose: 'external' }],
    });
    await send({ type: 'case.opened', interactionId: outbound.id, caseId: 'C-42' }, 'case-1');
    await expect
      .poll(() => world.emu.getConversation(outbound.id)?.participants[1]?.attributes)
      .toEqual({ 'Case Id': 'C-42' });
    expect(world.emu.getConversation(outbound.id)?.participants[0]?.attributes).toEqual({});
  });

  it('keeps per-participant order: 50 events with values 1..50 end with 50', async () => {
    const conv = world.emu.createConversation({ orgId: org.orgId, participants: [{ purpose: 'customer' }] });
    // One after another, while the worker delivers (and folds) them as they come.
    for (let i = 1; i <= 50; i++) {
      const res = await send(
        {
          type: 'customer.updated',
          interactionId: conv.id,
          customer: { tier: 'gold' },
          lastPurchase: String(i),
        },
        `order-${i}`,
      );
      expect(res.status).toBe(202);
    }
    await expect
      .poll(() => world.emu.getConversation(conv.id)?.participants[0]?.attributes.last_purchase)
      .toBe('50');
    // Every event reached an outcome.
    await expect
      .poll(
        async () =>
          (
            await world.app.all<{ n: number }>(
              "select count(distinct event_id) as n from audit_log where conversation_id = ? and kind in ('patch.applied','patch.skipped')",
              conv.id,
            )
          )[0]!.n,
      )
      .toBe(50);
  });

  it('an id with a lone surrogate or a NUL escape is processed like any other, not stuck', async () => {
    // Valid JSON that not every backend's text columns hold as is (PostgreSQL: neither).
    const odd = ['conv-\ud800', 'conv-\u0000-nul'];
    const ids: string[] = [];
    for (const [i, interactionId] of odd.entries()) {
      const res = await send(
        { type: 'customer.updated', interactionId, customer: { tier: 'gold' }, lastPurchase: `\udfff${i}` },
        `odd-${i}`,
      );
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { eventId: string }).eventId);
    }
    // A conversation Genesys does not know: matched, then waiting for it to become visible.
    const matched = async () =>
      (
        await world.app.all<{ event_id: string }>(
          "select event_id from audit_log where kind = 'event.matched' order by event_id",
        )
      ).map((r) => r.event_id);
    await expect.poll(matched).toEqual(ids);
    // What was hashed is what was stored: the org's chain still verifies.
    const verify = await world.call('GET', '/v1/audit/verify', { token: admin });
    expect(await verify.json()).toMatchObject({ ok: true });
  });
});
