import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GenesysEmulator } from '../../src/emulator/index.js';
import { GenesysClient } from '../../src/genesys/client.js';
import type { Outcome } from '../../src/genesys/outcome.js';
import type { Credentials } from '../../src/genesys/token-cache.js';
import { createMetrics, genesysMetricsHooks } from '../../src/ops/metrics.js';
import { ManualClock } from '../helpers/clock.js';

/**
 * The client against the emulator over real HTTP on 127.0.0.1. Emulator and client share one
 * manual clock, so token expiry is exercised by moving time, not by waiting.
 */
let clock: ManualClock;
let emu: GenesysEmulator;
let server: { url: string; close(): Promise<void> };
let creds: Map<string, Credentials>;
let client: GenesysClient;
let tokenEvents: Array<{ orgId: string; kind: string }>;

function newClient(baseUrl: string, extra: Partial<ConstructorParameters<typeof GenesysClient>[0]> = {}) {
  return new GenesysClient({
    baseUrl,
    clock,
    credentials: (orgId) => creds.get(orgId),
    onToken: (orgId, outcome) => tokenEvents.push({ orgId, kind: outcome.kind }),
    ...extra,
  });
}

/** An org with a client-credentials grant that may read conversations. */
function installOrg(name: string, opts: { lifetime?: number } = {}) {
  const org = emu.createOrg({ name });
  const grant = emu.createClient({
    orgId: org.id,
    name: `${name} relay`,
    permissions: ['conversation:communication:view'],
    ...(opts.lifetime ? { accessTokenValiditySeconds: opts.lifetime } : {}),
  });
  creds.set(org.id, { environment: 'mypurecloud.com', clientId: grant.id, clientSecret: grant.secret });
  return { org, grant };
}

const tokenRequests = () => emu.requests.filter((r) => r.path === '/oauth/token');
const apiRequests = () => emu.requests.filter((r) => r.path.startsWith('/api/v2/'));

function expectKind<T>(o: Outcome<T>, kind: string) {
  expect(o.kind, JSON.stringify(o)).toBe(kind);
  return o;
}

beforeEach(async () => {
  clock = new ManualClock();
  emu = new GenesysEmulator({ clock: clock.now });
  server = await emu.listen({ port: 0, host: '127.0.0.1' });
  creds = new Map();
  tokenEvents = [];
  client = newClient(server.url);
});

afterEach(async () => {
  await client.close();
  await server.close();
});

describe('token cache', () => {
  it('makes one token request for 50 concurrent calls of one org', async () => {
    const { org } = installOrg('Acme');
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () => client.forOrg(org.id).organizationsMe()),
    );
    for (const o of outcomes) expect(o.kind === 'ok' && o.value.id).toBe(org.id);
    expect(tokenRequests()).toHaveLength(1);
    expect(apiRequests()).toHaveLength(50);
  });

  it('keeps a separate token per org', async () => {
    const a = installOrg('A');
    const b = installOrg('B');
    await Promise.all([
      ...Array.from({ length: 5 }, () => client.forOrg(a.org.id).organizationsMe()),
      ...Array.from({ length: 5 }, () => client.forOrg(b.org.id).organizationsMe()),
    ]);
    expect(
      tokenRequests()
        .map((r) => r.clientId)
        .sort(),
    ).toEqual([a.grant.id, b.grant.id].sort());
    const forA = apiRequests().filter((r) => r.orgId === a.org.id);
    const forB = apiRequests().filter((r) => r.orgId === b.org.id);
    expect(forA).toHaveLength(5);
    expect(forB).toHaveLength(5);
    expect(new Set(forA.map((r) => r.clientId))).toEqual(new Set([a.grant.id]));
  });

  it('refreshes ahead of expiry in the background, and waits for a new token once expired', async () => {
    const { org } = installOrg('Acme', { lifetime: 300 });
    await client.forOrg(org.id).organizationsMe();
    expect(tokenRequests()).toHaveLength(1);

    clock.advance(200_000); // well inside the lifetime: cached
    expectKind(await client.forOrg(org.id).organizationsMe(), 'ok');
    expect(tokenRequests()).toHaveLength(1);

    clock.advance(75_000); // 275 s: in the refresh-ahead window (last 30 s of a 300 s token)
    expectKind(await client.forOrg(org.id).organizationsMe(), 'ok');
    await expect.poll(() => tokenRequests().length).toBe(2);

    clock.advance(300_000); // the second token has expired too: the next call waits for a third
    expectKind(await client.forOrg(org.id).organizationsMe(), 'ok');
    expect(tokenRequests()).toHaveLength(3);
    expect(apiRequests().every((r) => r.status === 200)).toBe(true);
  });

  it('on 401 drops the token, fetches exactly one new one, and retries once', async () => {
    const { org } = installOrg('Acme');
    await client.forOrg(org.id).organizationsMe();
    const [first] = tokenRequests();
    expect(first).toBeDefined();
    // Revoke the live token from under the cache (as Genesys does when it expires early).
    const cached = await client.tokens.get(org.id);
    if ('kind' in cached) throw new Error('no token');
    emu.revokeToken(cached.token);
    emu.clearRequests();

    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => client.forOrg(org.id).organizationsMe()),
    );
    for (const o of outcomes) expectKind(o, 'ok');
    expect(tokenRequests()).toHaveLength(1);
    expect(apiRequests().filter((r) => r.status === 401)).toHaveLength(20);
    expect(apiRequests().filter((r) => r.status === 200)).toHaveLength(20);
  });

  it('gives up after one retry when Genesys keeps answering 401', async () => {
    const { org } = installOrg('Acme');
    emu.injectFault({
      method: 'GET',
      path: '/api/v2/organizations/me',
      status: 401,
      times: Number.POSITIVE_INFINITY,
    });
    const o = expectKind(await client.forOrg(org.id).organizationsMe(), 'unauthorized');
    expect(o.status).toBe(401);
    expect(apiRequests()).toHaveLength(2);
    expect(tokenRequests()).toHaveLength(2);
  });

  it('reports a refused grant as unauthorized invalid_client, whatever the status, and tells the observer', async () => {
    const { org } = installOrg('Acme');
    creds.set(org.id, { ...creds.get(org.id)!, clientSecret: 'wrong' });
    const o = expectKind(await client.forOrg(org.id).organizationsMe(), 'unauthorized');
    expect(o.kind !== 'ok' && o.code).toBe('invalid_client');
    expect(apiRequests()).toHaveLength(0);
    expect(tokenEvents).toEqual([{ orgId: org.id, kind: 'unauthorized' }]);

    emu.injectFault({
      path: '/oauth/token',
      status: 400,
      body: { error: 'invalid_client', error_description: 'x' },
    });
    const again = await client.forOrg(org.id).organizationsMe();
    expect(again.kind !== 'ok' && [again.kind, again.code, again.status]).toEqual([
      'unauthorized',
      'invalid_client',
      400,
    ]);
  });

  it('kills the cached token when the OAuth client is disabled', async () => {
    const { org, grant } = installOrg('Acme');
    expectKind(await client.forOrg(org.id).organizationsMe(), 'ok');
    emu.setClientState(grant.id, 'Disabled');
    const o = expectKind(await client.forOrg(org.id).organizationsMe(), 'unauthorized');
    expect(o.kind !== 'ok' && o.code).toBe('invalid_client');
  });

  it('answers unauthorized grant.missing for an org without credentials, sending nothing', async () => {
    const o = expectKind(
      await client.forOrg('00000000-0000-0000-0000-000000000000').organizationsMe(),
      'unauthorized',
    );
    expect(o.kind !== 'ok' && o.code).toBe('grant.missing');
    expect(emu.requests).toHaveLength(0);
  });
});

describe('environments', () => {
  it('refuses an unlisted environment before any request is sent', async () => {
    const { org } = installOrg('Acme');
    creds.set(org.id, { ...creds.get(org.id)!, environment: 'evil.example.com' });
    const viaOrg = expectKind(await client.forOrg(org.id).organizationsMe(), 'permanent');
    expect(viaOrg.kind !== 'ok' && viaOrg.code).toBe('environment.unknown');
    const viaToken = expectKind(await client.withToken('attacker.test', 'tok').usersMe(), 'permanent');
    expect(viaToken.kind !== 'ok' && viaToken.code).toBe('environment.unknown');
    expect(emu.requests).toHaveLength(0);
  });

  it('without GENESYS_BASE_URL goes to login.{env} and api.{env}', async () => {
    // Nothing listens there from this sandbox; what matters is where the request was aimed.
    const urls: string[] = [];
    const direct = newClient('', {
      baseUrl: undefined,
      onCall: () => undefined,
      dispatcher: {
        // A dispatcher that records the origin and fails the request without any network.
        dispatch(opts: { origin?: unknown; path: string }, handler: { onError?: (e: Error) => void }) {
          urls.push(`${String(opts.origin)}${opts.path}`);
          queueMicrotask(() => handler.onError?.(new Error('offline')));
          return true;
        },
        close: async () => undefined,
        destroy: async () => undefined,
      } as never,
    });
    await direct.requestToken({ environment: 'mypurecloud.ie', clientId: 'c', clientSecret: 's' });
    await direct.withToken('usw2.pure.cloud', 't').organizationsMe();
    expect(urls).toEqual([
      'https://login.mypurecloud.ie/oauth/token',
      'https://api.usw2.pure.cloud/api/v2/organizations/me',
    ]);
  });
});

describe('classified outcomes', () => {
  it('classifies a 429 with its Retry-After', async () => {
    const { org } = installOrg('Acme');
    emu.configure({ rateLimitPerMinute: 2 });
    expectKind(await client.forOrg(org.id).organizationsMe(), 'ok');
    expectKind(await client.forOrg(org.id).organizationsMe(), 'ok');
    const limited = expectKind(await client.forOrg(org.id).organizationsMe(), 'rate_limited');
    const header = emu.requests.at(-1);
    expect(header?.status).toBe(429);
    expect(limited.kind !== 'ok' && limited.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(limited.kind !== 'ok' && limited.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(limited.kind !== 'ok' && limited.code).toBe('too.many.requests.retry.after');

    emu.configure({ rateLimitPerMinute: null });
    emu.injectFault({ path: '/api/v2/organizations/me', status: 429, headers: { 'Retry-After': '7' } });
    const injected = expectKind(await client.forOrg(org.id).organizationsMe(), 'rate_limited');
    expect(injected.kind !== 'ok' && injected.retryAfterMs).toBe(7_000);
    expect(injected.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('classifies 404, 409, 5xx and other 4xx, keeping the correlation id', async () => {
    const { org } = installOrg('Acme');
    const api = client.forOrg(org.id);
    const missing = expectKind(
      await api.getConversation('3f1b7a52-0000-4000-8000-000000000001'),
      'not_found',
    );
    expect(missing.kind !== 'ok' && missing.code).toBe('not.found');

    const conv = emu.createConversation({ orgId: org.id, participants: [{ purpose: 'customer' }] });
    const pid = conv.participants[0]!.id;
    emu.endParticipant(conv.id, pid);
    emu.configure({ endedParticipantPatch: 'conflict' });
    expectKind(await api.patchParticipantAttributes(conv.id, pid, { a: '1' }), 'conflict');

    emu.injectFault({ path: /conversations/, status: 503 });
    const down = expectKind(await api.getConversation(conv.id), 'retryable');
    expect(down.status).toBe(503);

    emu.injectFault({
      path: /conversations/,
      status: 403,
      body: { message: 'no', code: 'not.authorized', status: 403 },
    });
    const denied = expectKind(await api.getConversation(conv.id), 'permanent');
    expect(denied.kind !== 'ok' && [denied.status, denied.code, denied.message]).toEqual([
      403,
      'not.authorized',
      'no',
    ]);
    for (const o of [missing, down, denied]) expect(o.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('classifies connection failures and timeouts as retryable', async () => {
    const { org } = installOrg('Acme');
    const closedPort = await freePort();
    const refused = newClient(`http://127.0.0.1:${closedPort}`);
    const o = expectKind(await refused.forOrg(org.id).organizationsMe(), 'retryable');
    expect(o.kind !== 'ok' && o.code).toBe('network.ECONNREFUSED');
    await refused.close();

    // A server that accepts and never answers: the headers timeout fires.
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const slow = newClient(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, {
      timeouts: { connectMs: 1_000, headersMs: 150, bodyMs: 150 },
    });
    const timedOut = expectKind(await slow.withToken('mypurecloud.com', 't').organizationsMe(), 'retryable');
    expect(timedOut.kind !== 'ok' && timedOut.code).toBe('network.timeout');
    await slow.close();
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
  });
});

describe('domain methods', () => {
  it('PATCHes the generic endpoint with exactly {"attributes":{…}} as application/json', async () => {
    const { org } = installOrg('Acme');
    const conv = emu.createConversation({
      orgId: org.id,
      participants: [{ purpose: 'customer', attributes: { keep: 'me' } }, { purpose: 'agent' }],
    });
    const pid = conv.participants[0]!.id;
    const o = expectKind(
      await client.forOrg(org.id).patchParticipantAttributes(conv.id, pid, { tier: 'gold' }),
      'ok',
    );
    expect(o.status).toBe(202);
    const sent = emu.requests.find((r) => r.method === 'PATCH');
    expect(sent?.path).toBe(`/api/v2/conversations/${conv.id}/participants/${pid}/attributes`);
    expect(sent?.headers['content-type']).toBe('application/json');
    expect(sent?.body).toBe('{"attributes":{"tier":"gold"}}');
    expect(emu.getConversation(conv.id)?.participants[0]?.attributes).toEqual({ keep: 'me', tier: 'gold' });
  });

  it('reads a conversation with its participants, attributes and end times', async () => {
    const { org } = installOrg('Acme');
    const conv = emu.createConversation({
      orgId: org.id,
      participants: [{ purpose: 'customer', attributes: { a: '1' } }, { purpose: 'agent' }],
    });
    emu.endParticipant(conv.id, conv.participants[1]!.id);
    const o = await client.forOrg(org.id).getConversation(conv.id);
    if (o.kind !== 'ok') throw new Error(JSON.stringify(o));
    expect(o.value.id).toBe(conv.id);
    expect(o.value.endTime).toBeUndefined();
    const [customer, agent] = o.value.participants;
    expect(customer).toMatchObject({ purpose: 'customer', attributes: { a: '1' } });
    expect(customer?.endTime).toBeUndefined();
    expect(agent?.endTime).toEqual(expect.any(String));
  });

  it('refuses ids that are not plain path segments, sending nothing', async () => {
    const { org } = installOrg('Acme');
    for (const id of ['..', '../../oauth/clients', 'a/b', '', 'x?y=1']) {
      const o = expectKind(await client.forOrg(org.id).getConversation(id), 'permanent');
      expect(o.kind !== 'ok' && o.code).toBe('invalid.id');
    }
    expect(emu.requests).toHaveLength(0);
  });

  it('reads the user, org and token behind a user token', async () => {
    const org = emu.createOrg({ name: 'Acme' });
    const user = emu.createUser({
      orgId: org.id,
      name: 'Ada',
      permissions: ['integration:attributeRelay:admin'],
    });
    const api = client.withToken('mypurecloud.com', emu.createUserToken(user.id));
    const me = await api.usersMe(['authorization', 'organization']);
    if (me.kind !== 'ok') throw new Error(JSON.stringify(me));
    expect(me.value).toMatchObject({ id: user.id, name: 'Ada', organization: { id: org.id } });
    expect(me.value.authorization?.permissions).toContain('integration:attributeRelay:admin');
    expect(emu.requests.at(-1)?.query).toBe('expand=authorization&expand=organization');
    const orgMe = await api.organizationsMe();
    expect(orgMe.kind === 'ok' && orgMe.value.id).toBe(org.id);
    const tokenMe = await api.tokensMe();
    expect(tokenMe.kind === 'ok' && tokenMe.value.organization?.id).toBe(org.id);
  });

  it('creates a role, grants it to the user, creates and deletes an OAuth client holding it', async () => {
    const org = emu.createOrg({ name: 'Acme' });
    const admin = emu.createUser({
      orgId: org.id,
      name: 'Ada',
      permissions: [
        'authorization:role:add',
        'authorization:grant:add',
        'oauth:client:add',
        'oauth:client:delete',
      ],
    });
    const api = client.withToken('mypurecloud.com', emu.createUserToken(admin.id));
    const role = await api.createRole({
      name: 'attribute-relay',
      permissionPolicies: [{ domain: 'conversation', entityName: 'communication', actionSet: ['view'] }],
    });
    if (role.kind !== 'ok') throw new Error(JSON.stringify(role));
    expectKind(await api.addRoleUsers(role.value.id, [admin.id]), 'ok');
    const created = await api.createOAuthClient({
      name: 'attribute-relay',
      authorizedGrantType: 'CLIENT-CREDENTIALS',
      accessTokenValiditySeconds: 86400,
      roleDivisions: [{ roleId: role.value.id, divisionId: emu.listDivisions(org.id)[0]!.id }],
    });
    if (created.kind !== 'ok') throw new Error(JSON.stringify(created));
    expect(created.value.secret).toEqual(expect.any(String));

    // The new grant works through the org cache and carries the role's permission.
    creds.set(org.id, {
      environment: 'mypurecloud.com',
      clientId: created.value.id,
      clientSecret: created.value.secret!,
    });
    const conv = emu.createConversation({ orgId: org.id, participants: [{ purpose: 'customer' }] });
    expectKind(await client.forOrg(org.id).getConversation(conv.id), 'ok');

    expectKind(await api.deleteOAuthClient(created.value.id), 'ok');
    client.tokens.invalidate(org.id);
    const after = expectKind(await client.forOrg(org.id).getConversation(conv.id), 'unauthorized');
    expect(after.kind !== 'ok' && after.code).toBe('invalid_client');
  });
});

describe('metrics', () => {
  it('counts Genesys calls by operation and status, and token fetches by outcome', async () => {
    const { org } = installOrg('Acme');
    const metrics = createMetrics();
    const observed = newClient(server.url, genesysMetricsHooks(metrics));
    await observed.forOrg(org.id).organizationsMe();
    await observed.forOrg(org.id).getConversation('3f1b7a52-0000-4000-8000-000000000001');
    const text = await metrics.registry.metrics();
    expect(text).toContain('relay_genesys_calls_total{operation="token",status="200"} 1');
    expect(text).toContain('relay_genesys_calls_total{operation="organizationsMe",status="200"} 1');
    expect(text).toContain('relay_genesys_calls_total{operation="getConversation",status="404"} 1');
    expect(text).toContain('relay_genesys_token_fetches_total{outcome="ok"} 1');
    await observed.close();
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}
