import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signedPost } from '../helpers/signed.js';
import { type InstalledOrg, installedOrg, startWorld, type World } from '../helpers/world.js';

/**
 * `attempts` is one number: a delivery's tries as `GET /v1/events/{id}` shows them, and as the
 * audit's `patch.*` rows name them. The server's own worker runs step by step (drain, then run
 * what is due), so each retry happens exactly when the clock says.
 */
let world: World;
let acme: InstalledOrg;
let seq = 0;

beforeEach(async () => {
  world = await startWorld();
  acme = await installedOrg(world, 'Acme');
  const rule = await world.call('POST', '/v1/rules', {
    token: acme.admin,
    body: {
      name: 'Tier',
      when: { path: '$.tier', op: 'exists' },
      target: { conversationId: '$.conversationId', participant: { purpose: 'customer' } },
      set: { tier: '{{ $.tier }}' },
    },
  });
  expect(rule.status).toBe(201);
});
afterEach(() => world.close());

async function send(conversationId: string, tier: string): Promise<string> {
  const ts = Math.floor(world.clock.now() / 1000);
  const res = await signedPost(world.app.url, acme.source, { conversationId, tier }, `m-${++seq}`, ts);
  expect(res.status).toBe(202);
  return ((await res.json()) as { eventId: string }).eventId;
}

/** Events become jobs, and every job due now runs: what the worker does, without its timers. */
async function deliverDue(): Promise<void> {
  await world.app.deps.delivery.processor.drain();
  await world.app.deps.delivery.runner.runUntilEmpty();
}

interface Detail {
  deliveries: Array<{ status: string; attempts: number }>;
  attempts: Array<{ operation: string; status: number | null }>;
}
interface AuditPage {
  items: Array<{ kind: string; outcome: string; detail: Record<string, unknown> }>;
}

/** What each side says about an event's delivery: the events view, and its audit rows in order. */
async function bothSides(eventId: string) {
  const detail = (await (
    await world.call('GET', `/v1/events/${eventId}`, { token: acme.viewer })
  ).json()) as Detail;
  const audit = (await (
    await world.call('GET', `/v1/audit?eventId=${eventId}&kind=patch.applied,patch.retrying,patch.failed`, {
      token: acme.viewer,
    })
  ).json()) as AuditPage;
  return {
    deliveries: detail.deliveries.map((d) => [d.status, d.attempts]),
    audit: audit.items.reverse().map((i) => [i.kind, i.detail.attempts ?? i.detail.attempt]),
    patches: detail.attempts.filter((a) => a.operation === 'patchParticipantAttributes').map((a) => a.status),
  };
}

const customer = () =>
  world.emu.createConversation({ orgId: acme.org.orgId, participants: [{ purpose: 'customer' }] });

describe('delivery attempts', () => {
  it('a delivery applied at once took 1 attempt, in the events view and in the audit', async () => {
    const eventId = await send(customer().id, 'gold');
    await deliverDue();
    expect(await bothSides(eventId)).toEqual({
      deliveries: [['succeeded', 1]],
      audit: [['patch.applied', 1]],
      patches: [202],
    });
  });

  it('a delivery applied after a 503 took 2 attempts, in the events view and in the audit', async () => {
    world.emu.injectFault({ method: 'PATCH', path: /attributes$/, status: 503 });
    const eventId = await send(customer().id, 'gold');
    await deliverDue();
    expect(await bothSides(eventId)).toEqual({
      deliveries: [['pending', 1]],
      audit: [['patch.retrying', 1]],
      patches: [503],
    });
    world.clock.advance(1_200); // the first retry comes after 1 s ± 20%
    await deliverDue();
    expect(await bothSides(eventId)).toEqual({
      deliveries: [['succeeded', 2]],
      audit: [
        ['patch.retrying', 1],
        ['patch.applied', 2],
      ],
      patches: [503, 202],
    });
  });

  it('a 429 uses no attempt: applied after one is 1 attempt on both sides, and the 429 is still listed', async () => {
    world.emu.injectFault({
      method: 'PATCH',
      path: /attributes$/,
      status: 429,
      headers: { 'Retry-After': '2' },
    });
    const eventId = await send(customer().id, 'gold');
    await deliverDue();
    expect(await bothSides(eventId)).toEqual({ deliveries: [['pending', 0]], audit: [], patches: [429] });
    world.clock.advance(2_000);
    await deliverDue();
    expect(await bothSides(eventId)).toEqual({
      deliveries: [['succeeded', 1]],
      audit: [['patch.applied', 1]],
      patches: [429, 202],
    });
  });

  it('an event folded into a retried delivery has that delivery’s attempts, and lists the PATCH that carried it', async () => {
    const conv = customer();
    world.emu.injectFault({ method: 'PATCH', path: /attributes$/, status: 503 });
    const first = await send(conv.id, 'silver');
    await deliverDue();
    // Queued behind the waiting retry on the same participant: they go out with it.
    const later = await send(conv.id, 'gold');
    world.clock.advance(1_200);
    await deliverDue();
    expect(world.emu.requests.filter((r) => r.method === 'PATCH').map((r) => r.body)).toEqual([
      '{"attributes":{"tier":"silver"}}',
      '{"attributes":{"tier":"gold"}}',
    ]);
    expect(await bothSides(later)).toEqual({
      deliveries: [['succeeded', 2]],
      audit: [['patch.applied', 2]],
      patches: [202],
    });
    // Its value was overwritten in the same PATCH: skipped (superseded), after the same 2 attempts.
    expect(await bothSides(first)).toEqual({
      deliveries: [['succeeded', 2]],
      audit: [['patch.retrying', 1]],
      patches: [503, 202],
    });
  });
});
