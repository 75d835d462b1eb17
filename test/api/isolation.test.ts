import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../src/ingest/standard-webhooks.js';
import { install, type SeededOrg, seedOrg, session, startWorld, type World } from '../helpers/world.js';

/**
 * Tenant isolation over every admin route the app declares (read from /openapi.json, so a new
 * route joins this test by existing). Org B's admin aims at org A's objects; the answer is 404 for
 * any route that takes an id, and never any of A's data anywhere.
 */

interface Fixture {
  a: SeededOrg;
  b: SeededOrg;
  bAdmin: string;
  /** Every identifier of org A's data; none may appear in an answer to B. */
  secretsOfA: string[];
  aSourceId: string;
  aRuleId: string;
  aEventId: string;
}

/** Org A's id for each path parameter name. A route with a new parameter must add it here. */
const PATH_IDS: Record<string, (f: Fixture, path: string) => string> = {
  id: (f, path) =>
    path.startsWith('/v1/rules') ? f.aRuleId : path.startsWith('/v1/events') ? f.aEventId : f.aSourceId,
  n: () => '1',
};

/** Org A's value for each query parameter name of every session route. */
const QUERY_VALUES: Record<string, (f: Fixture) => string> = {
  kind: () => 'patch.applied',
  outcome: () => 'applied',
  conversationId: () => 'conv-of-A',
  ruleId: () => 'rule_ofa',
  sourceId: () => 'src_ofa',
  eventId: () => 'evt_ofa',
  from: () => '2000-01-01T00:00:00Z',
  to: () => '2100-01-01T00:00:00Z',
  limit: () => '500',
  cursor: () => '',
  format: () => 'ndjson',
  participantId: () => 'participant-of-A',
};

/** Bodies for writes without ids: they act on B's own org and must leave A alone. */
const WRITE_BODIES: Record<string, (f: Fixture) => unknown> = {
  // No body: acts on B's own grant only (B's client was given, so 409 and nothing changes).
  'POST /v1/grant/divisions': () => undefined,
  'POST /v1/sources': () => ({ name: 'Bravo CRM', auth: 'bearer' }),
  'POST /v1/rules': () => ({
    name: 'Bravo rule',
    when: { path: '$.type', op: 'exists' },
    target: { conversationId: '$.c' },
    set: { a: 'b' },
  }),
  'PUT /v1/rules/{id}': () => ({
    name: 'Hijack',
    when: { path: '$.type', op: 'exists' },
    target: { conversationId: '$.c' },
    set: { a: 'b' },
  }),
  // A's event and A's source id: refused (not B's source), never a trace of A's rules.
  'POST /v1/rules/test': (f) => ({
    event: { type: 'customer.updated', c: 'conv-of-A' },
    sourceId: f.aSourceId,
  }),
  'PATCH /v1/tenant': () => ({ settings: { requestsPerMinute: 1 } }),
  // A's grant offered to B's org: refused (it belongs to another org).
  'PUT /v1/grant': (f) => f.a.grant,
  'DELETE /v1/tenant': () => undefined,
};

interface Operation {
  method: string;
  path: string;
  parameters: Array<{ name: string; in: string }>;
}

let world: World;
let f: Fixture;
let operations: Operation[];

beforeAll(async () => {
  world = await startWorld();
  const a = seedOrg(world, 'Alpha');
  const b = seedOrg(world, 'Bravo');
  expect((await install(world, a)).status).toBe(201);
  expect((await install(world, b)).status).toBe(201);
  await world.app.stores.appendAudit({
    orgId: a.orgId,
    at: world.clock.now(),
    kind: 'patch.applied',
    actor: { type: 'system' },
    outcome: 'applied',
    conversationId: 'conv-of-A',
    ruleIds: ['rule_ofa'],
    sourceId: 'src_ofa',
    eventId: 'evt_ofa',
    detail: { attributes: { marker: 'secret-of-A' } },
  });
  const [seeded] = await world.app.all<{ id: string }>(
    "select id from audit_log where org_id = ? and kind = 'patch.applied'",
    a.orgId,
  );
  const auditId = seeded!.id;
  const created = await world.call('POST', '/v1/sources', {
    token: await session(world, a.admin),
    body: { name: 'Alpha CRM', auth: 'standard-webhooks' },
  });
  const aSource = (await created.json()) as { id: string; secret: string };
  const aRule = (await (
    await world.call('POST', '/v1/rules', {
      token: await session(world, a.admin),
      body: {
        name: 'Alpha secret rule',
        sourceId: aSource.id,
        when: { path: '$.type', op: 'eq', value: 'customer.updated' },
        target: { conversationId: '$.c' },
        set: { alpha_marker: 'secret-of-A' },
      },
    })
  ).json()) as { id: string };
  const raw = JSON.stringify({ type: 'customer.updated', c: 'conv-of-A' });
  const ts = Math.floor(world.clock.now() / 1000);
  const sent = await fetch(`${world.app.url}/v1/hooks/${aSource.id}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': 'msg-a',
      'webhook-timestamp': String(ts),
      'webhook-signature': sign(aSource.secret, 'msg-a', ts, raw),
    },
    body: raw,
  });
  const aEventId = ((await sent.json()) as { eventId: string }).eventId;
  f = {
    a,
    b,
    bAdmin: await session(world, b.admin),
    aSourceId: aSource.id,
    aRuleId: aRule.id,
    aEventId,
    secretsOfA: [
      a.orgId,
      a.grant.clientId,
      auditId,
      'conv-of-A',
      'secret-of-A',
      'Alpha',
      aSource.id,
      aSource.secret,
      aRule.id,
      aEventId,
      'alpha_marker',
    ],
  };
  const doc = (await (await fetch(`${world.app.url}/openapi.json`)).json()) as {
    paths: Record<
      string,
      Record<string, { security?: Array<Record<string, unknown>>; parameters?: Operation['parameters'] }>
    >;
  };
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => op.security?.some((s) => 'session' in s))
      .map(([method, op]) => ({ method: method.toUpperCase(), path, parameters: op.parameters ?? [] })),
  );
});
afterAll(() => world.close());

/** Reads, then writes, then B's own uninstall (which ends B's session). */
const rank = (o: Operation) =>
  o.path === '/v1/tenant' && o.method === 'DELETE'
    ? 3
    : o.method === 'GET'
      ? 0
      : o.method === 'DELETE'
        ? 2
        : 1;

describe('tenant isolation', () => {
  it('covers the admin routes the app declares', () => {
    const names = operations.map((o) => `${o.method} ${o.path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'GET /v1/tenant',
        'PATCH /v1/tenant',
        'PUT /v1/grant',
        'POST /v1/grant/divisions',
        'DELETE /v1/tenant',
        'GET /v1/audit',
        'GET /v1/audit/export',
        'GET /v1/audit/verify',
        'GET /v1/lineage',
        'GET /v1/sources',
        'POST /v1/sources',
        'POST /v1/sources/{id}/rotate',
        'DELETE /v1/sources/{id}',
        'GET /v1/rules',
        'POST /v1/rules',
        'POST /v1/rules/test',
        'GET /v1/rules/{id}',
        'PUT /v1/rules/{id}',
        'DELETE /v1/rules/{id}',
        'GET /v1/rules/{id}/versions',
        'GET /v1/rules/{id}/versions/{n}',
        'GET /v1/events',
        'GET /v1/events/{id}',
        'POST /v1/events/{id}/replay',
      ]),
    );
  });

  it("org B's admin gets 404 for org A's ids and never A's data, on every route", async () => {
    // Reads first, the uninstall of B last.
    for (const op of [...operations].sort((x, y) => rank(x) - rank(y))) {
      const label = `${op.method} ${op.path}`;
      let path = op.path;
      const pathParams = op.parameters.filter((p) => p.in === 'path');
      for (const p of pathParams) {
        const id = PATH_IDS[p.name];
        if (!id) throw new Error(`${label}: add org A's value for path parameter "${p.name}" to PATH_IDS`);
        path = path.replace(`{${p.name}}`, encodeURIComponent(id(f, op.path)));
      }
      const query = new URLSearchParams();
      for (const p of op.parameters.filter((x) => x.in === 'query')) {
        const value = QUERY_VALUES[p.name];
        if (!value)
          throw new Error(`${label}: add org A's value for query parameter "${p.name}" to QUERY_VALUES`);
        if (value(f) !== '') query.set(p.name, value(f));
      }
      const writeBody = WRITE_BODIES[label];
      if (op.method !== 'GET' && pathParams.length === 0 && !writeBody) {
        throw new Error(`${label}: add a body to WRITE_BODIES (or an id parameter)`);
      }
      const body = op.method === 'GET' || !writeBody ? undefined : writeBody(f);
      const res = await world.call(op.method, `${path}${query.size ? `?${query}` : ''}`, {
        token: f.bAdmin,
        ...(body !== undefined ? { body } : {}),
      });
      const text = await res.text();
      if (pathParams.length > 0) expect(res.status, label).toBe(404);
      else expect(res.status, `${label}: ${text}`).toBeLessThan(500);
      for (const secret of f.secretsOfA) expect(text, `${label} leaked ${secret}`).not.toContain(secret);
    }
  });

  it('left org A exactly as it was', async () => {
    const aAdmin = await session(world, f.a.admin);
    const tenant = (await (await world.call('GET', '/v1/tenant', { token: aAdmin })).json()) as {
      settings: { requestsPerMinute: number };
      grant: { clientId: string };
    };
    expect(tenant.settings.requestsPerMinute).toBe(300);
    expect(tenant.grant.clientId).toBe(f.a.grant.clientId);
    const audit = (await (await world.call('GET', '/v1/audit', { token: aAdmin })).json()) as {
      items: unknown[];
    };
    expect(audit.items).toHaveLength(5);
    const rules = (await (await world.call('GET', '/v1/rules', { token: aAdmin })).json()) as {
      items: Array<{ id: string; version: number }>;
    };
    expect(rules.items.map((r) => [r.id, r.version])).toEqual([[f.aRuleId, 1]]);
    const sources = (await (await world.call('GET', '/v1/sources', { token: aAdmin })).json()) as {
      items: Array<{ id: string }>;
    };
    expect(sources.items.map((x) => x.id)).toEqual([f.aSourceId]);
  });
});
