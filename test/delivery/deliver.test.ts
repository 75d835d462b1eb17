import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPgDatabase, type PgDatabase } from '../../src/db/pg/client.js';
import { BUDGET_WINDOW_MS, Budgets } from '../../src/delivery/budget.js';
import { ConversationCache } from '../../src/delivery/conversation-cache.js';
import { deliveryHandler, FOLD_LIMIT } from '../../src/delivery/deliver.js';
import { DELIVER_JOB, type DeliverPayload, laneOf } from '../../src/delivery/process-events.js';
import { RETRY_SCHEDULE_MS } from '../../src/delivery/retry-policy.js';
import { createLogger } from '../../src/lib/logger.js';
import type { PgJobQueue } from '../../src/queue/pg-store.js';
import type { JobQueue, NewJob } from '../../src/queue/queue.js';
import { Runner } from '../../src/queue/runner.js';
import type { SqliteJobQueue } from '../../src/queue/sqlite-store.js';
import type { ParticipantSelector } from '../../src/rules/match.js';
import { install, type SeededOrg, seedOrg, session, startWorld, type World } from '../helpers/world.js';

/** The delivery handler against the emulator over real HTTP, driven by the real queue. */
let world: World;
let org: SeededOrg;
let queue: JobQueue;
/** On PostgreSQL, a handle of the test's own for the transaction an enqueue needs. */
let pg: PgDatabase | undefined;
let budgets: Budgets;
let runner: Runner;
let seq = 0;

beforeEach(async () => {
  world = await startWorld();
  org = seedOrg(world, 'Acme');
  expect((await install(world, org)).status).toBe(201);
  // The app's own queue and recorder (its worker is not started): SQLite's or PostgreSQL's.
  queue = world.app.stores.delivery.queue;
  if (world.app.backend === 'postgres') pg = openPgDatabase(world.app.dbPath, { max: 1 });
  budgets = new Budgets();
  const handler = deliveryHandler({
    genesys: world.app.deps.genesys,
    tenants: world.app.deps.tenants,
    budgets,
    recorder: world.app.stores.delivery.recorder,
    clock: world.clock,
    random: () => 0.5,
  });
  runner = new Runner({
    queue,
    handlers: { [DELIVER_JOB]: handler },
    clock: world.clock,
    logger: createLogger('silent'),
    pausedOrgs: () => budgets.paused(world.clock.now()),
  });
});
afterEach(async () => {
  await world.close();
  await pg?.close();
  pg = undefined;
});

/** Adds jobs as the event processor does: SQLite's queue on its own, PostgreSQL's in a transaction. */
async function enqueue(jobs: NewJob[]): Promise<string[]> {
  const now = world.clock.now();
  if (!pg) return (queue as SqliteJobQueue).enqueue(jobs, now);
  return pg.db.transaction((tx) => (queue as PgJobQueue).enqueue(tx, jobs, now));
}

async function deliver(
  conversationId: string,
  attributes: Record<string, string>,
  participant: ParticipantSelector = { purpose: 'customer' },
  orgId = org.orgId,
) {
  const target = { conversationId, participant };
  const payload: DeliverPayload = {
    eventId: `evt_${++seq}`,
    sourceId: 'src_crm',
    target,
    attributes,
    from: Object.fromEntries(Object.keys(attributes).map((k) => [k, { ruleId: `rule_${k}`, version: 2 }])),
    rules: [{ ruleId: 'rule_x', version: 1 }],
  };
  const [id] = await enqueue([
    {
      kind: DELIVER_JOB,
      orgId,
      lane: laneOf(orgId, target),
      payload,
      maxAttempts: RETRY_SCHEDULE_MS.length + 1,
    },
  ]);
  return { jobId: id!, eventId: payload.eventId };
}

const jobRow = async (id: string) =>
  (
    await world.app.all<{ status: string }>('select status, attempts, last_error from jobs where id = ?', id)
  )[0];
const outcomes = async (eventId: string) =>
  (
    await world.app.all<{ kind: string; outcome: string; detail: string; participant_id: string | null }>(
      "select kind, outcome, detail, participant_id from audit_log where event_id = ? and kind like 'patch.%' order by id",
      eventId,
    )
  ).map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
const patches = () => world.emu.requests.filter((r) => r.method === 'PATCH');

function conversation(
  participants: Array<{ purpose: string; attributes?: Record<string, string> }>,
  visibleAfterMs?: number,
) {
  return world.emu.createConversation({
    orgId: org.orgId,
    participants,
    ...(visibleAfterMs ? { visibleAfterMs } : {}),
  });
}

describe('delivery', () => {
  it('sends only what differs, exactly {"attributes":{…}} as JSON, and audits patch.applied', async () => {
    const conv = conversation([
      { purpose: 'customer', attributes: { keep: '1', tier: 'silver' } },
      { purpose: 'agent' },
    ]);
    const { jobId, eventId } = await deliver(conv.id, { keep: '1', tier: 'gold' });
    await runner.runUntilEmpty();
    const [patch] = patches();
    expect(patch?.body).toBe('{"attributes":{"tier":"gold"}}');
    expect(patch?.headers['content-type']).toBe('application/json');
    expect(patch?.path).toBe(
      `/api/v2/conversations/${conv.id}/participants/${conv.participants[0]!.id}/attributes`,
    );
    expect(world.emu.getConversation(conv.id)?.participants[0]?.attributes).toEqual({
      keep: '1',
      tier: 'gold',
    });
    const [applied] = await outcomes(eventId);
    expect(applied).toMatchObject({
      kind: 'patch.applied',
      outcome: 'applied',
      participant_id: conv.participants[0]!.id,
    });
    expect(applied?.detail).toMatchObject({
      attributes: { tier: 'gold' },
      status: 202,
      attempts: 1,
      correlationId: expect.any(String),
    });
    expect(await jobRow(jobId)).toMatchObject({ status: 'succeeded' });
    const attempts = await world.app.all(
      'select operation, status, outcome from delivery_attempts where event_id = ? order by id',
      eventId,
    );
    expect(attempts).toEqual([
      { operation: 'getConversation', status: 200, outcome: 'ok' },
      { operation: 'patchParticipantAttributes', status: 202, outcome: 'ok' },
    ]);
  });

  it('skips without a PATCH when nothing differs, and when the conversation or participant ended', async () => {
    const same = conversation([{ purpose: 'customer', attributes: { tier: 'gold' } }]);
    const ended = conversation([{ purpose: 'customer' }]);
    world.emu.endConversation(ended.id);
    const gone = conversation([{ purpose: 'customer' }, { purpose: 'agent' }]);
    world.emu.endParticipant(gone.id, gone.participants[0]!.id);
    const a = await deliver(same.id, { tier: 'gold' });
    const b = await deliver(ended.id, { tier: 'gold' });
    const c = await deliver(gone.id, { tier: 'gold' });
    await runner.runUntilEmpty();
    expect(patches()).toHaveLength(0);
    expect((await outcomes(a.eventId)).map((o) => o.outcome)).toEqual(['no_change']);
    expect((await outcomes(b.eventId)).map((o) => o.outcome)).toEqual(['conversation_ended']);
    expect(await outcomes(c.eventId)).toEqual([
      expect.objectContaining({
        outcome: 'participant_terminated',
        participant_id: gone.participants[0]!.id,
      }),
    ]);
  });

  it.each([
    ['accept', 'applied', 'patch.applied'],
    ['conflict', 'participant_terminated', 'patch.skipped'],
    ['bad_request', 'participant_terminated', 'patch.skipped'],
  ] as const)(
    'endedParticipants: patch-until-conversation-ends PATCHes an ended participant; Genesys answering %s → %s',
    async (answer, outcome, kind) => {
      const admin = await session(world, org.admin);
      const res = await world.call('PATCH', '/v1/tenant', {
        token: admin,
        body: { settings: { endedParticipants: 'patch-until-conversation-ends' } },
      });
      expect(((await res.json()) as { settings: unknown }).settings).toMatchObject({
        endedParticipants: 'patch-until-conversation-ends',
      });
      world.emu.configure({ endedParticipantPatch: answer });
      const wrapUp = conversation([{ purpose: 'customer' }, { purpose: 'agent' }]);
      world.emu.endParticipant(wrapUp.id, wrapUp.participants[0]!.id);
      const { jobId, eventId } = await deliver(wrapUp.id, { caseId: 'C-1' });
      await runner.runUntilEmpty();
      // One PATCH, whatever Genesys answers: a refusal is an answer, never a retry loop.
      expect(patches()).toHaveLength(1);
      expect(await jobRow(jobId)).toMatchObject({ status: 'succeeded' });
      const [o] = await outcomes(eventId);
      expect(o).toMatchObject({ kind, outcome, participant_id: wrapUp.participants[0]!.id });
      if (answer !== 'accept') expect(o?.detail.status).toBe(answer === 'conflict' ? 409 : 400);
    },
  );

  it('never sends a body over Genesys’ 512,000 bytes: patch.failed body_too_large, no PATCH', async () => {
    const conv = conversation([{ purpose: 'customer' }]);
    const big = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`a${i}`, 'x'.repeat(90_000)]));
    const { jobId, eventId } = await deliver(conv.id, big);
    await runner.runUntilEmpty();
    expect(patches()).toHaveLength(0);
    expect(await jobRow(jobId)).toMatchObject({ status: 'failed' });
    expect(await outcomes(eventId)).toEqual([
      expect.objectContaining({
        kind: 'patch.failed',
        detail: expect.objectContaining({ code: 'body_too_large' }),
      }),
    ]);
  });

  it('waits for a conversation that is not visible yet (a draft id visible after 3 s), without using attempts', async () => {
    const conv = conversation([{ purpose: 'customer' }], 3_000);
    const { jobId, eventId } = await deliver(conv.id, { tier: 'gold' });
    await runner.runUntilEmpty();
    expect(await jobRow(jobId)).toMatchObject({ status: 'pending', attempts: 0 });
    world.clock.advance(3_000);
    await runner.runUntilEmpty();
    expect((await outcomes(eventId)).map((o) => o.outcome)).toEqual(['applied']);
  });

  it('gives up with participant_not_found after the 2-minute window', async () => {
    const { jobId, eventId } = await deliver('7c9e6679-7425-40de-944b-e07fc1f90ae7', { tier: 'gold' });
    for (let i = 0; i < 20; i++) {
      await runner.runUntilEmpty();
      world.clock.advance(15_000);
    }
    expect((await outcomes(eventId)).map((o) => o.outcome)).toEqual(['participant_not_found']);
    // The waits used none: the one attempt is the run that gave up.
    expect(await jobRow(jobId)).toMatchObject({ status: 'succeeded', attempts: 1 });
    const reads = world.emu.requests.filter((r) => r.method === 'GET' && r.path.includes('/conversations/'));
    expect(reads.length).toBeGreaterThan(3);
    expect(reads.length).toBeLessThan(20);
  });

  it('on 429 waits Retry-After without an attempt, pausing only that org', async () => {
    const other = seedOrg(world, 'Other');
    expect((await install(world, other)).status).toBe(201);
    const mine = conversation([{ purpose: 'customer' }]);
    const theirs = world.emu.createConversation({
      orgId: other.orgId,
      participants: [{ purpose: 'customer' }],
    });
    world.emu.injectFault({
      method: 'GET',
      path: `/api/v2/conversations/${mine.id}`,
      status: 429,
      headers: { 'Retry-After': '7' },
    });
    const a = await deliver(mine.id, { tier: 'gold' });
    const b = await deliver(theirs.id, { tier: 'gold' }, { purpose: 'customer' }, other.orgId);
    await runner.runUntilEmpty();
    expect(await jobRow(a.jobId)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(budgets.paused(world.clock.now())).toEqual([org.orgId]);
    expect((await outcomes(b.eventId)).map((o) => o.outcome)).toEqual(['applied']);
    world.clock.advance(7_000);
    await runner.runUntilEmpty();
    expect((await outcomes(a.eventId)).map((o) => o.outcome)).toEqual(['applied']);
    // Done in one attempt (the 429 used none), and the 429 is no longer its last error.
    expect(await jobRow(a.jobId)).toMatchObject({ status: 'succeeded', attempts: 1, last_error: null });
  });

  it('retries 5xx on the schedule (patch.retrying) and then applies', async () => {
    const conv = conversation([{ purpose: 'customer' }]);
    world.emu.injectFault({ method: 'PATCH', path: /attributes$/, status: 503 });
    const { jobId, eventId } = await deliver(conv.id, { tier: 'gold' });
    await runner.runUntilEmpty();
    expect(await jobRow(jobId)).toMatchObject({ status: 'pending', attempts: 1 });
    world.clock.advance(RETRY_SCHEDULE_MS[0]!);
    await runner.runUntilEmpty();
    const o = await outcomes(eventId);
    expect(o.map((x) => x.kind)).toEqual(['patch.retrying', 'patch.applied']);
    expect(o[0]?.detail).toMatchObject({ status: 503, attempt: 1, nextAttemptAt: expect.any(String) });
    expect(o[1]?.detail).toMatchObject({ attempts: 2 });
  });

  it('fails at once on another 4xx, with Genesys’ code and message', async () => {
    const conv = conversation([{ purpose: 'customer' }]);
    world.emu.injectFault({
      method: 'PATCH',
      path: /attributes$/,
      status: 400,
      body: { message: 'Attribute value too long', code: 'invalid.value', status: 400 },
    });
    const { jobId, eventId } = await deliver(conv.id, { tier: 'gold' });
    await runner.runUntilEmpty();
    expect(await outcomes(eventId)).toEqual([
      expect.objectContaining({
        kind: 'patch.failed',
        detail: expect.objectContaining({
          status: 400,
          code: 'invalid.value',
          message: 'Attribute value too long',
        }),
      }),
    ]);
    expect(await jobRow(jobId)).toMatchObject({ status: 'failed' });
  });

  it('gives a 409 one more try after re-reading, and fails on the second', async () => {
    const conv = conversation([{ purpose: 'customer' }]);
    world.emu.injectFault({ method: 'PATCH', path: /attributes$/, status: 409, times: 2 });
    const { jobId, eventId } = await deliver(conv.id, { tier: 'gold' });
    await runner.runUntilEmpty();
    world.clock.advance(1_000);
    await runner.runUntilEmpty();
    expect((await outcomes(eventId)).map((o) => o.kind)).toEqual(['patch.retrying', 'patch.failed']);
    expect(await jobRow(jobId)).toMatchObject({ status: 'failed' });
    expect(patches()).toHaveLength(2);
  });

  it('fails after the whole retry schedule', async () => {
    const conv = conversation([{ purpose: 'customer' }]);
    world.emu.injectFault({
      method: 'PATCH',
      path: /attributes$/,
      status: 500,
      times: Number.POSITIVE_INFINITY,
    });
    const { jobId, eventId } = await deliver(conv.id, { tier: 'gold' });
    for (const delay of [0, ...RETRY_SCHEDULE_MS]) {
      world.clock.advance(delay * 1.2 + 1);
      await runner.runUntilEmpty();
    }
    const kinds = (await outcomes(eventId)).map((o) => o.kind);
    expect(kinds.filter((k) => k === 'patch.retrying')).toHaveLength(RETRY_SCHEDULE_MS.length);
    expect(kinds.at(-1)).toBe('patch.failed');
    expect(await jobRow(jobId)).toMatchObject({ status: 'failed', attempts: RETRY_SCHEDULE_MS.length + 1 });
    expect((await outcomes(eventId)).at(-1)?.detail.attempts).toBe(RETRY_SCHEDULE_MS.length + 1);
  });

  it('keeps to the org’s requestsPerMinute, waiting without failing', async () => {
    const admin = await session(world, org.admin);
    await world.call('PATCH', '/v1/tenant', { token: admin, body: { settings: { requestsPerMinute: 2 } } });
    const c1 = conversation([{ purpose: 'customer' }]);
    const c2 = conversation([{ purpose: 'customer' }]);
    const a = await deliver(c1.id, { tier: 'gold' });
    const b = await deliver(c2.id, { tier: 'gold' });
    await runner.runUntilEmpty();
    expect((await outcomes(a.eventId)).map((o) => o.outcome)).toEqual(['applied']);
    expect(await jobRow(b.jobId)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(world.emu.requests.filter((r) => r.path.startsWith('/api/v2/conversations'))).toHaveLength(2);
    expect(budgets.paused(world.clock.now())).toEqual([org.orgId]);
    // A take counts for a minute and a margin (BUDGET_WINDOW_MS).
    world.clock.advance(BUDGET_WINDOW_MS);
    await runner.runUntilEmpty();
    expect((await outcomes(b.eventId)).map((o) => o.outcome)).toEqual(['applied']);
    // Nothing was read twice: the budget is reserved for the read and the PATCH together.
    expect(world.emu.requests.filter((r) => r.path.startsWith('/api/v2/conversations'))).toHaveLength(4);
  });
});

describe('delivery acceptance', () => {
  it('after a 429 with Retry-After: 2, nothing is sent for 2 s and no attempt is used', async () => {
    const conv = conversation([{ purpose: 'customer' }]);
    world.emu.injectFault({
      method: 'PATCH',
      path: /attributes$/,
      status: 429,
      headers: { 'Retry-After': '2' },
    });
    const { jobId, eventId } = await deliver(conv.id, { tier: 'gold' });
    await runner.runUntilEmpty();
    const sentAt = world.clock.now();
    world.clock.advance(1_999);
    await runner.runUntilEmpty();
    expect(patches()).toHaveLength(1);
    world.clock.advance(1);
    await runner.runUntilEmpty();
    const [first, second] = patches();
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(2_000);
    expect(first!.at).toBe(sentAt);
    expect((await outcomes(eventId)).map((o) => o.outcome)).toEqual(['applied']);
    expect(await jobRow(jobId)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('a token revoked mid-run costs exactly one refresh', async () => {
    const conv = conversation([{ purpose: 'customer' }]);
    await deliver(conv.id, { step: '1' });
    await runner.runUntilEmpty();
    const cached = await world.app.deps.genesys.tokens.get(org.orgId);
    if ('kind' in cached) throw new Error('no token');
    world.emu.revokeToken(cached.token);
    const tokensBefore = world.emu.requests.filter((r) => r.path === '/oauth/token').length;
    const { eventId } = await deliver(conv.id, { step: '2' });
    await runner.runUntilEmpty();
    expect(world.emu.requests.filter((r) => r.path === '/oauth/token')).toHaveLength(tokensBefore + 1);
    expect((await outcomes(eventId)).map((o) => o.outcome)).toEqual(['applied']);
  });

  it('keeps retrying through 30 s of 5xx, then applies', async () => {
    const conv = conversation([{ purpose: 'customer' }]);
    world.emu.injectFault({
      method: 'PATCH',
      path: /attributes$/,
      status: 503,
      times: Number.POSITIVE_INFINITY,
    });
    const { jobId, eventId } = await deliver(conv.id, { tier: 'gold' });
    const start = world.clock.now();
    while (world.clock.now() - start < 30_000) {
      await runner.runUntilEmpty();
      world.clock.advance(1_000);
    }
    world.emu.clearFaults();
    for (let i = 0; i < 60 && (await jobRow(jobId))?.status !== 'succeeded'; i++) {
      world.clock.advance(5_000);
      await runner.runUntilEmpty();
    }
    const kinds = (await outcomes(eventId)).map((o) => o.kind);
    expect(kinds.at(-1)).toBe('patch.applied');
    expect(kinds.filter((k) => k === 'patch.retrying').length).toBeGreaterThanOrEqual(3);
  });
});

describe('bursts on one participant', () => {
  let folding: Runner;
  beforeEach(() => {
    folding = new Runner({
      queue,
      handlers: {
        [DELIVER_JOB]: deliveryHandler({
          genesys: world.app.deps.genesys,
          tenants: world.app.deps.tenants,
          budgets,
          recorder: world.app.stores.delivery.recorder,
          clock: world.clock,
          conversations: new ConversationCache(5_000),
          random: () => 0.5,
        }),
      },
      fold: { [DELIVER_JOB]: FOLD_LIMIT },
      clock: world.clock,
      logger: createLogger('silent'),
    });
  });

  it('folds the jobs queued on a lane into one PATCH, later events winning, each event audited', async () => {
    const conv = conversation([{ purpose: 'customer' }]);
    const sent = [
      await deliver(conv.id, { step: '1', a: 'x' }),
      await deliver(conv.id, { step: '2' }),
      await deliver(conv.id, { step: '3', b: 'y' }),
      await deliver(conv.id, { step: '4' }),
    ];
    await folding.runUntilEmpty();
    expect(patches().map((p) => p.body)).toEqual(['{"attributes":{"step":"4","a":"x","b":"y"}}']);
    const head = sent[0]!.jobId;
    for (const s of sent) {
      expect(await jobRow(s.jobId)).toMatchObject({ status: 'succeeded' });
      const [o] = await outcomes(s.eventId);
      expect(o?.detail).toMatchObject({ delivery: head, eventsInDelivery: 4 });
      if (s.jobId !== head) expect(o?.detail.foldedInto).toBe(head);
    }
    // Each event is credited with the values that were its own; step 2's only key went out as 4.
    const credited = await Promise.all(sent.map((s) => outcomes(s.eventId)));
    expect(credited.map((o) => o.map((x) => [x.kind, x.outcome, x.detail.attributes]))).toEqual([
      [['patch.applied', 'applied', { a: 'x' }]],
      [['patch.skipped', 'superseded', undefined]],
      [['patch.applied', 'applied', { b: 'y' }]],
      [['patch.applied', 'applied', { step: '4' }]],
    ]);
    expect((await outcomes(sent[1]!.eventId))[0]?.detail.supersededBy).toEqual([sent[3]!.eventId]);
  });

  it('an event folded into one that has waited out the window gets its own wait, and is delivered', async () => {
    const t0 = world.clock.now();
    const conv = conversation([{ purpose: 'customer' }], 150_000);
    const early = await deliver(conv.id, { a: '1' });
    while (world.clock.now() - t0 < 119_000) {
      await folding.runUntilEmpty();
      world.clock.advance(1_000);
    }
    const late = await deliver(conv.id, { b: '2' });
    // Past the early event's two minutes: the run that folds the late one in must not give up.
    world.clock.advance(2_000);
    await folding.runUntilEmpty();
    expect(await outcomes(late.eventId)).toEqual([]);
    while (world.clock.now() - t0 < 160_000) {
      world.clock.advance(5_000);
      await folding.runUntilEmpty();
    }
    expect(patches().map((p) => p.body)).toEqual(['{"attributes":{"a":"1","b":"2"}}']);
    expect((await outcomes(late.eventId)).map((o) => o.outcome)).toEqual(['applied']);
    expect((await outcomes(early.eventId)).map((o) => o.outcome)).toEqual(['applied']);
  });

  it('reuses a conversation read moments ago: a burst costs about one call per event', async () => {
    const conv = conversation([{ purpose: 'customer' }]);
    for (let i = 0; i < 10; i++) {
      await deliver(conv.id, { n: String(i) });
      await folding.runUntilEmpty();
      world.clock.advance(100);
    }
    const calls = world.emu.requests.filter((r) => r.path.includes(conv.id));
    expect(calls.filter((r) => r.method === 'GET')).toHaveLength(1);
    expect(calls.filter((r) => r.method === 'PATCH')).toHaveLength(10);
    // Past the cache's few seconds, the conversation is read again.
    world.clock.advance(5_000);
    await deliver(conv.id, { n: 'later' });
    await folding.runUntilEmpty();
    expect(world.emu.requests.filter((r) => r.path.includes(conv.id) && r.method === 'GET')).toHaveLength(2);
  });

  it('a retried delivery folds its lane again: what went out together never goes out one by one', async () => {
    const conv = conversation([{ purpose: 'customer' }]);
    // A 503 may still have been applied: the retry must carry the newest values again.
    world.emu.injectFault({ method: 'PATCH', path: /attributes$/, status: 503 });
    const sent = [
      await deliver(conv.id, { step: '1' }),
      await deliver(conv.id, { step: '2' }),
      await deliver(conv.id, { step: '3' }),
    ];
    await folding.runUntilEmpty();
    world.clock.advance(RETRY_SCHEDULE_MS[0]! * 2);
    await folding.runUntilEmpty();
    expect(patches().map((p) => p.body)).toEqual([
      '{"attributes":{"step":"3"}}',
      '{"attributes":{"step":"3"}}',
    ]);
    const last = await Promise.all(sent.map(async (s) => (await outcomes(s.eventId)).at(-1)?.outcome));
    expect(last).toEqual(['superseded', 'superseded', 'applied']);
  });

  it('gives folded jobs back to their lane when the merged PATCH fails, and delivers them after', async () => {
    const conv = conversation([{ purpose: 'customer' }]);
    world.emu.injectFault({
      method: 'PATCH',
      path: /attributes$/,
      status: 400,
      body: { message: 'bad', code: 'bad.request', status: 400 },
    });
    const first = await deliver(conv.id, { a: '1' });
    const second = await deliver(conv.id, { b: '2' });
    await folding.runUntilEmpty();
    expect((await outcomes(first.eventId)).map((o) => o.kind)).toEqual(['patch.failed']);
    expect((await outcomes(second.eventId)).map((o) => o.kind)).toEqual(['patch.applied']);
    expect(patches().map((p) => p.body)).toEqual([
      '{"attributes":{"a":"1","b":"2"}}',
      '{"attributes":{"b":"2"}}',
    ]);
  });

  it('lineage: each attribute’s last value with its event, source, rule and delivery, and what came before', async () => {
    const conv = conversation([{ purpose: 'customer' }]);
    const e1 = await deliver(conv.id, { tier: 'silver', purchase: 'p1' });
    await folding.runUntilEmpty();
    world.clock.advance(10_000);
    const e2 = await deliver(conv.id, { tier: 'gold' });
    const e3 = await deliver(conv.id, { tier: 'platinum', purchase: 'p3' });
    await folding.runUntilEmpty();
    world.clock.advance(10_000);
    const e4 = await deliver(conv.id, { purchase: 'p3' });
    await folding.runUntilEmpty();

    const admin = await session(world, org.admin);
    const res = await world.call('GET', `/v1/lineage?conversationId=${conv.id}`, { token: admin });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      participants: Array<{
        participantId: string;
        attributes: Array<
          Record<string, unknown> & { name: string; history: Array<Record<string, unknown>> }
        >;
        events: Array<Record<string, unknown>>;
      }>;
    };
    const [p] = body.participants;
    expect(body.participants).toHaveLength(1);
    expect(p!.participantId).toBe(conv.participants[0]!.id);
    const tier = p!.attributes.find((a) => a.name === 'tier')!;
    expect(tier).toMatchObject({
      value: 'platinum',
      eventId: e3.eventId,
      sourceId: 'src_crm',
      rule: { ruleId: 'rule_tier', version: 2 },
      delivery: e2.jobId,
      correlationId: expect.any(String),
    });
    expect(tier.history.map((h) => [h.value, h.eventId])).toEqual([['silver', e1.eventId]]);
    const purchase = p!.attributes.find((a) => a.name === 'purchase')!;
    expect([purchase.value, purchase.eventId, purchase.history.map((h) => h.value)]).toEqual([
      'p3',
      e3.eventId,
      ['p1'],
    ]);
    expect(p!.events.map((e) => [e.eventId, e.outcome])).toEqual([
      [e4.eventId, 'no_change'],
      [e3.eventId, 'applied'],
      [e2.eventId, 'superseded'],
      [e1.eventId, 'applied'],
    ]);
    expect(p!.events[1]).toMatchObject({
      foldedInto: e2.jobId,
      attributes: { tier: 'platinum', purchase: 'p3' },
    });
    expect(p!.events[2]).toMatchObject({ supersededBy: [e3.eventId] });
    const other = await world.call('GET', `/v1/lineage?conversationId=${conv.id}&participantId=nobody`, {
      token: admin,
    });
    expect(((await other.json()) as { participants: unknown[] }).participants).toEqual([]);
    expect((await world.call('GET', '/v1/lineage', { token: admin })).status).toBe(422);
  });
});
