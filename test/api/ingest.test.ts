import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sign } from '../../src/ingest/standard-webhooks.js';
import { startTestApp } from '../helpers/app.js';
import { install, type SeededOrg, seedOrg, session, startWorld, type World } from '../helpers/world.js';

let world: World;
let org: SeededOrg;
let admin: string;
let signed: { id: string; secret: string };
let bearer: { id: string; secret: string };

async function createSource(auth: 'standard-webhooks' | 'bearer', name = `${auth} source`) {
  const res = await world.call('POST', '/v1/sources', { token: admin, body: { name, auth } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; secret: string; ingestUrl: string; auth: string; name: string };
}

beforeEach(async () => {
  world = await startWorld({ env: { PUBLIC_URL: 'https://relay.example.com' } });
  org = seedOrg(world, 'Acme');
  expect((await install(world, org)).status).toBe(201);
  admin = await session(world, org.admin);
  signed = await createSource('standard-webhooks');
  bearer = await createSource('bearer');
});
afterEach(() => world.close());

const nowSeconds = () => Math.floor(world.clock.now() / 1000);

/** A Standard Webhooks delivery; every part can be overridden to build a bad one. */
function deliver(
  source: { id: string; secret: string },
  body: unknown,
  o: { msgId?: string; ts?: number; signature?: string; contentType?: string; raw?: string } = {},
) {
  const raw = o.raw ?? JSON.stringify(body);
  const msgId = o.msgId ?? `msg_${randomUUID()}`;
  const ts = o.ts ?? nowSeconds();
  return fetch(`${world.app.url}/v1/hooks/${source.id}`, {
    method: 'POST',
    headers: {
      'content-type': o.contentType ?? 'application/json',
      'webhook-id': msgId,
      'webhook-timestamp': String(ts),
      'webhook-signature': o.signature ?? sign(source.secret, msgId, ts, raw),
    },
    body: raw,
  });
}

function post(sourceId: string, body: string, headers: Record<string, string>) {
  return fetch(`${world.app.url}/v1/hooks/${sourceId}`, { method: 'POST', headers, body });
}

const count = async (table: string) =>
  (await world.app.all<{ n: number }>(`select count(*) as n from ${table}`))[0]!.n;

async function accepted(res: Response) {
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as { eventId: string; duplicate: boolean };
}

async function refusedWith(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  return (await res.json()) as { detail: string; code: string };
}

describe('sources', () => {
  it('creates sources whose secret is shown once, with the ingest URL from PUBLIC_URL', async () => {
    expect(signed.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(signed.secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    expect(bearer.secret).toMatch(/^rly_[A-Za-z0-9_-]{43}$/);
    const list = (await (
      await world.call('GET', '/v1/sources', { token: await session(world, org.viewer) })
    ).json()) as {
      items: Array<Record<string, unknown>>;
    };
    expect(list.items.map((s) => s.id)).toEqual([signed.id, bearer.id]);
    expect(list.items[0]).toMatchObject({
      ingestUrl: `https://relay.example.com/v1/hooks/${signed.id}`,
      auth: 'standard-webhooks',
    });
    expect(JSON.stringify(list)).not.toContain(signed.secret);
    const audit = await world.app.all("select count(*) as n from audit_log where kind = 'source.created'");
    expect(audit).toEqual([{ n: 2 }]);
  });

  it('refuses viewers’ writes and invalid bodies', async () => {
    const viewer = await session(world, org.viewer);
    expect(
      (await world.call('POST', '/v1/sources', { token: viewer, body: { name: 'x', auth: 'bearer' } }))
        .status,
    ).toBe(403);
    const bad = await world.call('POST', '/v1/sources', { token: admin, body: { name: '', auth: 'hmac' } });
    expect(bad.status).toBe(422);
    expect(
      ((await bad.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path).sort(),
    ).toEqual(['auth', 'name']);
    expect((await world.call('DELETE', `/v1/sources/${signed.id}`, { token: viewer })).status).toBe(403);
    expect((await world.call('DELETE', '/v1/sources/src_nope', { token: admin })).status).toBe(404);
  });

  it('a deleted source stops accepting at once (404)', async () => {
    await accepted(await deliver(signed, { a: 1 }));
    expect((await world.call('DELETE', `/v1/sources/${signed.id}`, { token: admin })).status).toBe(204);
    await refusedWith(await deliver(signed, { a: 2 }), 404);
    expect(await count('events')).toBe(1);
  });
});

describe('standard-webhooks ingest', () => {
  it('202 {eventId, duplicate:false} once the event is stored, pending for processing, with its audit row', async () => {
    const body = { type: 'customer.updated', customer: { tier: 'gold' } };
    const { eventId, duplicate } = await accepted(await deliver(signed, body, { msgId: 'msg_1' }));
    expect(eventId).toMatch(/^evt_[0-9a-z]{26}$/);
    expect(duplicate).toBe(false);
    const [row] = await world.app.all('select * from events where id = ?', eventId);
    expect(row).toMatchObject({
      org_id: org.orgId,
      source_id: signed.id,
      dedup_key: 'msg_1',
      state: 'pending',
    });
    expect(JSON.parse(row!.body as string)).toEqual(body);
    expect(JSON.parse(row!.headers as string)).toMatchObject({
      'webhook-id': 'msg_1',
      'content-type': 'application/json',
    });
    expect(row!.headers).not.toContain('v1,');
    const [audit] = await world.app.all<Record<string, string>>(
      "select * from audit_log where kind = 'event.received' and event_id = ?",
      eventId,
    );
    expect(JSON.parse(audit!.actor!)).toEqual({ type: 'source', id: signed.id });
    expect(audit!.source_id).toBe(signed.id);
  });

  it('accepts what the standardwebhooks package signs', async () => {
    const raw = JSON.stringify({ via: 'package' });
    const msgId = 'msg_pkg';
    const signature = new Webhook(signed.secret).sign(msgId, new Date(world.clock.now()), raw);
    await accepted(await deliver(signed, undefined, { raw, msgId, signature }));
  });

  it('signs what the standardwebhooks package verifies', () => {
    const raw = JSON.stringify({ via: 'ours' });
    const ts = Math.floor(Date.now() / 1000); // the package checks against the real clock
    const headers = {
      'webhook-id': 'msg_x',
      'webhook-timestamp': String(ts),
      'webhook-signature': sign(signed.secret, 'msg_x', ts, raw),
    };
    expect(new Webhook(signed.secret).verify(raw, headers)).toEqual({ via: 'ours' });
    expect(() => new Webhook(signed.secret).verify(`${raw} `, headers)).toThrow();
  });

  it('passes when any one of several signatures matches', async () => {
    const raw = '{"n":1}';
    const good = sign(signed.secret, 'msg_multi', nowSeconds(), raw);
    const wrong = sign(bearer.secret, 'msg_multi', nowSeconds(), raw);
    await accepted(
      await deliver(signed, undefined, { raw, msgId: 'msg_multi', signature: `v1a,xyz ${wrong} ${good}` }),
    );
    await refusedWith(await deliver(signed, undefined, { raw, msgId: 'msg_other', signature: wrong }), 401);
  });

  it.each([
    ['5 minutes and 1 second old', -301, 401],
    ['5 minutes and 1 second ahead', 301, 401],
    ['4 minutes 59 seconds old', -299, 202],
    ['4 minutes 59 seconds ahead', 299, 202],
  ])('a timestamp %s → %i', async (_, skew, status) => {
    const res = await deliver(signed, { t: skew }, { ts: nowSeconds() + skew });
    expect(res.status).toBe(status);
  });

  it('401 for a missing header or a wrong signature, naming what is wrong', async () => {
    const missing = await post(signed.id, '{}', {
      'content-type': 'application/json',
      'webhook-id': 'm',
      'webhook-timestamp': String(nowSeconds()),
    });
    expect((await refusedWith(missing, 401)).detail).toMatch(/webhook-signature/);
    const tampered = await deliver(signed, undefined, {
      raw: '{"a":2}',
      signature: sign(signed.secret, 'x', nowSeconds(), '{"a":1}'),
    });
    expect((await refusedWith(tampered, 401)).detail).toMatch(/signature/);
    expect(await count('events')).toBe(0);
  });

  it('keeps the previous secret working for 24 h after a rotation, then refuses it', async () => {
    const rotated = await world.call('POST', `/v1/sources/${signed.id}/rotate`, { token: admin });
    expect(rotated.status).toBe(200);
    const next = (await rotated.json()) as { secret: string; previousSecretValidUntil: string };
    expect(next.secret).not.toBe(signed.secret);
    expect(Date.parse(next.previousSecretValidUntil)).toBe(world.clock.now() + 86_400_000);

    await accepted(await deliver(signed, { old: 1 }));
    await accepted(await deliver({ id: signed.id, secret: next.secret }, { new: 1 }));
    world.clock.advance(86_400_000 - 1_000);
    await accepted(await deliver(signed, { old: 2 }));
    world.clock.advance(2_000);
    await refusedWith(await deliver(signed, { old: 3 }), 401);
    await accepted(await deliver({ id: signed.id, secret: next.secret }, { new: 2 }));
    expect(await world.app.all("select count(*) as n from audit_log where kind = 'source.rotated'")).toEqual([
      { n: 1 },
    ]);
  });
});

describe('ingest log lines', () => {
  it('an accepted event logs its request at debug; a refused one at info', async () => {
    const before = world.app.logs.length;
    await accepted(await deliver(signed, { type: 'a' }));
    await refusedWith(await deliver(signed, { type: 'b' }, { signature: 'v1,AAAA' }), 401);
    const lines = world.app.logs
      .slice(before)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'request');
    // The test app logs at info: the accepted request's debug line is not written.
    expect(lines.map((l) => [l.status, l.level])).toEqual([[401, 'info']]);
  });
});

describe('bearer ingest', () => {
  const withToken = (token: string, body: string, extra: Record<string, string> = {}) =>
    post(bearer.id, body, { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...extra });

  it('accepts the token, refuses others, and dedups on Idempotency-Key', async () => {
    await accepted(await withToken(bearer.secret, '{"a":1}'));
    await refusedWith(await withToken(`${bearer.secret}x`, '{"a":1}'), 401);
    await refusedWith(await post(bearer.id, '{"a":1}', { 'content-type': 'application/json' }), 401);
    const first = await accepted(await withToken(bearer.secret, '{"b":1}', { 'idempotency-key': 'order-7' }));
    const again = await accepted(await withToken(bearer.secret, '{"b":2}', { 'idempotency-key': 'order-7' }));
    expect(again).toEqual({ eventId: first.eventId, duplicate: true });
    expect(await count('events')).toBe(2);
  });
});

describe('dedup', () => {
  it('a repeated webhook-id answers 202 with the first eventId, duplicate: true, stored once', async () => {
    const first = await accepted(await deliver(signed, { n: 1 }, { msgId: 'msg_dup' }));
    const again = await accepted(await deliver(signed, { n: 1 }, { msgId: 'msg_dup' }));
    expect(again).toEqual({ eventId: first.eventId, duplicate: true });
    expect(await count('events')).toBe(1);
    // Per source: the same id from another source is another event.
    const other = await createSource('standard-webhooks', 'other');
    expect((await accepted(await deliver(other, { n: 1 }, { msgId: 'msg_dup' }))).duplicate).toBe(false);
  });

  it('20 concurrent identical deliveries → one event, all answered with its id', async () => {
    const raw = '{"burst":true}';
    const ts = nowSeconds();
    const signature = sign(signed.secret, 'msg_burst', ts, raw);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        deliver(signed, undefined, { raw, msgId: 'msg_burst', ts, signature }).then(accepted),
      ),
    );
    expect(new Set(results.map((r) => r.eventId)).size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await count('events')).toBe(1);
    expect(await world.app.all("select count(*) as n from audit_log where kind = 'event.received'")).toEqual([
      { n: 1 },
    ]);
  });

  it('remembers ids for the dedup window (24 h), then accepts the id as new', async () => {
    const first = await accepted(await deliver(signed, { n: 1 }, { msgId: 'msg_window' }));
    world.clock.advance(24 * 3_600_000 - 1_000);
    expect((await accepted(await deliver(signed, { n: 1 }, { msgId: 'msg_window' }))).duplicate).toBe(true);
    world.clock.advance(2_000);
    const later = await accepted(await deliver(signed, { n: 1 }, { msgId: 'msg_window' }));
    expect(later.duplicate).toBe(false);
    expect(later.eventId).not.toBe(first.eventId);
  });

  it('remembers ids across a restart', async () => {
    const first = await accepted(await deliver(signed, { n: 1 }, { msgId: 'msg_restart' }));
    const { dbPath, masterKey } = world.app;
    await world.app.close({ keepData: true });
    const restarted = await startTestApp({ reuse: { dbPath, masterKey }, clock: world.clock });
    try {
      const raw = '{"n":1}';
      const ts = nowSeconds();
      const res = await fetch(`${restarted.url}/v1/hooks/${signed.id}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': 'msg_restart',
          'webhook-timestamp': String(ts),
          'webhook-signature': sign(signed.secret, 'msg_restart', ts, raw),
        },
        body: raw,
      });
      expect(await accepted(res)).toEqual({ eventId: first.eventId, duplicate: true });
    } finally {
      await restarted.close({ keepData: true });
      rmSync(dirname(dbPath), { recursive: true, force: true });
    }
  });
});

describe('refused requests', () => {
  it('every refusal is problem+json, stores nothing, audits nothing, and is counted by reason', async () => {
    const snapshot = () =>
      Promise.all(
        // Each table in the order of its key.
        [
          ['events', 'id'],
          ['audit_log', 'id'],
          ['ingest_keys', 'source_id, key'],
          ['sources', 'id'],
        ].map(async ([t, key]) => JSON.stringify(await world.app.all(`select * from ${t} order by ${key}`))),
      );
    const before = await snapshot();
    const big = JSON.stringify({ pad: 'x'.repeat(256 * 1024) });
    const cases: Array<[Promise<Response>, number]> = [
      [deliver({ id: 'src_unknown', secret: signed.secret }, { a: 1 }), 404],
      [deliver(signed, { a: 1 }, { contentType: 'text/plain' }), 415],
      [deliver(signed, undefined, { raw: big }), 413],
      [deliver(signed, { a: 1 }, { signature: 'v1,AAAA' }), 401],
      [deliver(signed, { a: 1 }, { ts: nowSeconds() - 3600 }), 401],
      [deliver(signed, undefined, { raw: '{"a":' }), 400],
      [deliver(signed, undefined, { raw: '[1,2]' }), 400],
      [deliver(signed, undefined, { raw: '"text"' }), 400],
      [post(bearer.id, '{}', { 'content-type': 'application/json', authorization: 'Bearer nope' }), 401],
    ];
    for (const [res, status] of cases) await refusedWith(await res, status);
    expect(await snapshot()).toEqual(before);
    const metrics = await (await fetch(`${world.app.url}/metrics`)).text();
    for (const reason of [
      'unknown_source',
      'unsupported_media_type',
      'too_large',
      'bad_signature',
      'stale_timestamp',
      'malformed_json',
      'not_object',
      'bad_token',
    ]) {
      expect(metrics).toMatch(new RegExp(`relay_ingest_refused_total\\{reason="${reason}"\\} [1-9]`));
    }
  });

  it('refuses a chunked body past 256 KiB with 413 while reading', async () => {
    const chunk = new TextEncoder().encode(`{"pad":"${'y'.repeat(64 * 1024)}`);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${world.app.url}/v1/hooks/${signed.id}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'm',
        'webhook-timestamp': String(nowSeconds()),
        'webhook-signature': 'v1,x',
      },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await refusedWith(res, 413);
    expect(await count('events')).toBe(0);
  });
});
