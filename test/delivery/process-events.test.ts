import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventProcessor } from '../../src/delivery/process-events.js';
import { createLogger } from '../../src/lib/logger.js';
import { install, type SeededOrg, seedOrg, session, startWorld, type World } from '../helpers/world.js';

let world: World;
let org: SeededOrg;
let admin: string;
let source: { id: string; secret: string };
let processor: EventProcessor;

beforeEach(async () => {
  world = await startWorld();
  org = seedOrg(world, 'Acme');
  expect((await install(world, org)).status).toBe(201);
  admin = await session(world, org.admin);
  source = (await (
    await world.call('POST', '/v1/sources', { token: admin, body: { name: 'CRM', auth: 'bearer' } })
  ).json()) as {
    id: string;
    secret: string;
  };
  processor = new EventProcessor({
    // The app's own store and queue (its worker is not started), on either backend.
    store: world.app.stores.delivery.processing,
    rules: world.app.deps.rules,
    clock: world.clock,
    logger: createLogger('silent'),
  });
});
afterEach(() => world.close());

async function rule(body: Record<string, unknown>) {
  const res = await world.call('POST', '/v1/rules', {
    token: admin,
    body: { target: { conversationId: '$.interactionId' }, ...body },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string };
}

async function send(body: unknown): Promise<string> {
  const res = await fetch(`${world.app.url}/v1/hooks/${source.id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${source.secret}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { eventId: string }).eventId;
}

const jobsOf = async (eventId: string) =>
  (
    await world.app.all<{ lane: string; payload: string; status: string }>(
      'select lane, payload, status from jobs order by id',
    )
  )
    .map((j) => ({
      ...j,
      payload: JSON.parse(j.payload) as {
        eventId: string;
        attributes: Record<string, string>;
        target: unknown;
        rules: unknown;
      },
    }))
    .filter((j) => j.payload.eventId === eventId);
const auditOf = (eventId: string, kind: string) =>
  world.app.all<Record<string, string>>(
    'select * from audit_log where event_id = ? and kind = ? order by id',
    eventId,
    kind,
  );

describe('event processing', () => {
  it('turns a matching event into one delivery job per target participant, audited as event.matched', async () => {
    const tier = await rule({
      name: 'tier',
      when: { path: '$.type', op: 'eq', value: 'customer.updated' },
      set: { customer_tier: '{{ $.customer.tier }}' },
    });
    const agent = await rule({
      name: 'agent note',
      when: { path: '$.type', op: 'eq', value: 'customer.updated' },
      target: { conversationId: '$.interactionId', participant: { purpose: 'agent' } },
      set: { note: 'VIP' },
    });
    const eventId = await send({
      type: 'customer.updated',
      interactionId: 'conv-1',
      customer: { tier: 'gold' },
    });
    expect(await processor.drain()).toBe(1);

    const jobs = await jobsOf(eventId);
    expect(jobs.map((j) => [j.payload.target, j.payload.attributes, j.status])).toEqual([
      [
        { conversationId: 'conv-1', participant: { purpose: ['customer', 'external'] } },
        { customer_tier: 'gold' },
        'pending',
      ],
      [{ conversationId: 'conv-1', participant: { purpose: 'agent' } }, { note: 'VIP' }, 'pending'],
    ]);
    expect(new Set(jobs.map((j) => j.lane)).size).toBe(2);
    expect(jobs[0]?.payload.rules).toEqual([{ ruleId: tier.id, version: 1 }]);
    const [audit] = await auditOf(eventId, 'event.matched');
    expect(JSON.parse(audit!.rule_ids!).sort()).toEqual([tier.id, agent.id].sort());
    expect(audit!.conversation_id).toBe('conv-1');
    expect(JSON.parse(audit!.detail!)).toMatchObject({ deliveries: 2 });
    expect(await world.app.all('select state from events where id = ?', eventId)).toEqual([
      { state: 'processed' },
    ]);
  });

  it('records event.unmatched and enqueues nothing when no rule matches', async () => {
    await rule({
      name: 'orders',
      when: { path: '$.type', op: 'eq', value: 'order.shipped' },
      set: { a: 'b' },
    });
    const eventId = await send({ type: 'customer.updated', interactionId: 'conv-1' });
    await processor.drain();
    expect(await jobsOf(eventId)).toEqual([]);
    expect(JSON.parse((await auditOf(eventId, 'event.unmatched'))[0]!.detail!)).toEqual({
      rulesConsidered: 1,
    });
  });

  it('processes each event once: a second pass finds nothing and enqueues nothing', async () => {
    await rule({ name: 'all', when: { path: '$.type', op: 'exists' }, set: { a: '{{ $.type }}' } });
    const ids = [
      await send({ type: 'a', interactionId: 'c1' }),
      await send({ type: 'b', interactionId: 'c1' }),
    ];
    expect(await processor.drain()).toBe(2);
    expect(await processor.drain()).toBe(0);
    expect(await world.app.all('select count(*) as n from jobs')).toEqual([{ n: 2 }]);
    // Same participant: one lane, in event order.
    const lanes = await Promise.all(ids.map(async (id) => (await jobsOf(id))[0]?.lane));
    expect(lanes[0]).toBe(lanes[1]);
  });

  it('uses the rules as they are when the event is processed (the cache follows every save)', async () => {
    const r = await rule({ name: 'v', when: { path: '$.type', op: 'exists' }, set: { label: 'first' } });
    const first = await send({ type: 't', interactionId: 'c1' });
    await processor.drain();
    const put = await world.call('PUT', `/v1/rules/${r.id}`, {
      token: admin,
      body: {
        name: 'v',
        when: { path: '$.type', op: 'exists' },
        target: { conversationId: '$.interactionId' },
        set: { label: 'second' },
      },
    });
    expect(put.status).toBe(200);
    const second = await send({ type: 't', interactionId: 'c1' });
    await processor.drain();
    expect((await jobsOf(first))[0]?.payload.attributes).toEqual({ label: 'first' });
    expect((await jobsOf(second))[0]?.payload).toMatchObject({
      attributes: { label: 'second' },
      rules: [{ ruleId: r.id, version: 2 }],
    });
    await world.call('DELETE', `/v1/rules/${r.id}`, { token: admin });
    const third = await send({ type: 't', interactionId: 'c1' });
    await processor.drain();
    expect(await jobsOf(third)).toEqual([]);
    expect(await auditOf(third, 'event.unmatched')).toHaveLength(1);
  });
});
