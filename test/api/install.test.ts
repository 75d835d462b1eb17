import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/tenants/manifest.js';
import { startTestApp } from '../helpers/app.js';
import {
  ENV,
  expectRows,
  install,
  rowsPerTable,
  type SeededOrg,
  seedOrg,
  startWorld,
  type World,
} from '../helpers/world.js';

let world: World;
let org: SeededOrg;
beforeEach(async () => {
  world = await startWorld();
  org = seedOrg(world, 'Acme');
});
afterEach(() => world.close());

const auditKinds = async (orgId: string) =>
  (
    await world.app.all<{ kind: string }>('select kind from audit_log where org_id = ? order by id', orgId)
  ).map((r) => r.kind);

describe('install with given credentials', () => {
  it('verifies the grant, stores the tenant and answers 201; a second install answers 200 unchanged', async () => {
    const res = await install(world, org, 'given');
    expect(res.status).toBe(201);
    const tenant = (await res.json()) as Record<string, unknown>;
    expect(tenant).toMatchObject({
      orgId: org.orgId,
      orgName: 'Acme',
      environment: ENV,
      role: 'admin',
      settings: { requestsPerMinute: 300, auditRetentionDays: 90 },
      grant: { clientId: org.grant.clientId, managed: false, status: 'ok', lastError: null },
      delivery: { pending: 0, oldestPendingAgeMs: null, lastAppliedAt: null, lastRateLimitedAt: null },
    });
    expect(JSON.stringify(tenant)).not.toContain(org.grant.clientSecret);
    // The grant was checked with Genesys: a token, then organizations/me with it.
    const paths = world.emu.requests.map((r) => `${r.method} ${r.path} ${r.status}`);
    expect(paths).toContain('POST /oauth/token 200');
    expect(paths).toContain('GET /api/v2/organizations/me 200');

    world.clock.advance(60_000);
    const again = await install(world, org, 'given');
    expect(again.status).toBe(200);
    expect(((await again.json()) as { installedAt: string }).installedAt).toBe(tenant.installedAt);
    expect(await auditKinds(org.orgId)).toEqual(['tenant.installed']);
  });

  it('a re-install with credentials checks them: wrong → 422, another valid client → 409, the same → 200', async () => {
    expect((await install(world, org, 'given')).status).toBe(201);
    const again = (body: Record<string, string>) =>
      world.call('POST', '/v1/install', { token: org.admin, body: { environment: ENV, ...body } });
    const wrong = await again({ clientId: org.grant.clientId, clientSecret: 'wrong' });
    expect(wrong.status).toBe(422);
    expect(((await wrong.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toEqual([
      'clientSecret',
    ]);
    const second = world.emu.createClient({
      orgId: org.orgId,
      permissions: ['conversation:communication:view'],
    });
    const other = await again({ clientId: second.id, clientSecret: second.secret });
    expect(other.status).toBe(409);
    expect(((await other.json()) as { detail: string }).detail).toContain('PUT /v1/grant');
    expect((await again({ clientId: org.grant.clientId, clientSecret: org.grant.clientSecret })).status).toBe(
      200,
    );
    expect(await auditKinds(org.orgId)).toEqual(['tenant.installed']);
  });

  it('refuses a wrong secret with 422 on clientSecret and stores nothing', async () => {
    const res = await world.call('POST', '/v1/install', {
      token: org.admin,
      body: { environment: ENV, clientId: org.grant.clientId, clientSecret: 'wrong' },
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as { errors: Array<{ path: string }> };
    expect(body.errors.map((e) => e.path)).toEqual(['clientSecret']);
    await expectRows(world.app, org.orgId, {});
  });

  it('refuses a grant of another org with 422 on clientId and stores nothing', async () => {
    const other = seedOrg(world, 'Other');
    const res = await world.call('POST', '/v1/install', {
      token: org.admin,
      body: { environment: ENV, ...other.grant },
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { errors: Array<{ path: string }> }).errors[0]?.path).toBe('clientId');
    await expectRows(world.app, org.orgId, {});
    await expectRows(world.app, other.orgId, {});
  });
});

describe('install without credentials', () => {
  it('creates the manifest role and a client-credentials client in the org, and uses that grant', async () => {
    const res = await install(world, org, 'provisioned');
    expect(res.status).toBe(201);
    const tenant = (await res.json()) as { grant: { clientId: string; managed: boolean } };
    expect(tenant.grant.managed).toBe(true);

    const manifest = loadManifest();
    const roles = world.emu.listRoles(org.orgId).filter((r) => r.name === manifest.install.role.name);
    expect(roles).toHaveLength(1);
    expect(roles[0]?.permissionPolicies).toEqual(manifest.install.role.permissionPolicies);
    const clients = world.emu.listOAuthClients(org.orgId).filter((c) => c.id === tenant.grant.clientId);
    expect(clients).toEqual([expect.objectContaining({ state: 'Active', roleIds: [roles[0]?.id] })]);

    // The stored (sealed) grant works through the org's token cache.
    const conv = world.emu.createConversation({ orgId: org.orgId, participants: [{ purpose: 'customer' }] });
    const read = await world.app.deps.genesys.forOrg(org.orgId).getConversation(conv.id);
    expect(read.kind).toBe('ok');
    expect(world.emu.requests.at(-1)?.clientId).toBe(tenant.grant.clientId);
  });

  it('reuses the role an earlier attempt left behind', async () => {
    const manifest = loadManifest();
    world.emu.createRole({
      orgId: org.orgId,
      name: manifest.install.role.name,
      permissionPolicies: manifest.install.role.permissionPolicies,
    });
    expect((await install(world, org, 'provisioned')).status).toBe(201);
    expect(world.emu.listRoles(org.orgId).filter((r) => r.name === manifest.install.role.name)).toHaveLength(
      1,
    );
  });

  it('answers 403 naming what Genesys refused when the admin may not create OAuth clients, and leaves no role', async () => {
    const weak = world.emu.createUser({
      orgId: org.orgId,
      name: 'Weak',
      permissions: [
        'integration:attributeRelay:admin',
        'authorization:role:view',
        'authorization:role:add',
        'authorization:grant:add',
        'authorization:role:delete',
      ],
    });
    const res = await world.call('POST', '/v1/install', {
      token: world.emu.createUserToken(weak.id),
      body: { environment: ENV },
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/OAuth client.*oauth:client:add/);
    expect(
      world.emu.listRoles(org.orgId).filter((r) => r.name === loadManifest().install.role.name),
    ).toHaveLength(0);
    expect((await rowsPerTable(world.app, org.orgId)).tenants).toBe(0);
  });
});

describe('install: bad input', () => {
  it('422 with every problem’s path for a body that does not match the schema', async () => {
    const res = await world.call('POST', '/v1/install', {
      token: org.admin,
      body: { environment: 7, clientId: 'only-id', extra: true },
    });
    expect(res.status).toBe(422);
    const paths = ((await res.json()) as { errors: Array<{ path: string }> }).errors
      .map((e) => e.path)
      .sort();
    expect(paths).toEqual(expect.arrayContaining(['environment', '$']));
    expect(world.emu.requests).toHaveLength(0);
  });

  it('400 for an unlisted environment, before any request to Genesys', async () => {
    const res = await world.call('POST', '/v1/install', {
      token: org.admin,
      body: { environment: 'evil.example.com' },
    });
    expect(res.status).toBe(400);
    expect(world.emu.requests).toHaveLength(0);
  });

  it.each([
    ['no token', undefined],
    ['a garbage token', 'not-a-token'],
  ])('401 with %s', async (_, token) => {
    const res = await world.call('POST', '/v1/install', {
      ...(token ? { token } : {}),
      body: { environment: ENV },
    });
    expect(res.status).toBe(401);
    expect((await rowsPerTable(world.app, org.orgId)).tenants).toBe(0);
  });

  it('401 for a client-credentials token posing as a user token', async () => {
    const res = await fetch(`${world.app.url}/v1/install`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await clientToken(world, org)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ environment: ENV }),
    });
    expect(res.status).toBe(401);
  });

  it('403 for a viewer or a user without the app permission', async () => {
    for (const token of [org.viewer, org.nobody]) {
      const res = await world.call('POST', '/v1/install', {
        token,
        body: { environment: ENV, ...org.grant },
      });
      expect(res.status).toBe(403);
    }
    expect((await rowsPerTable(world.app, org.orgId)).tenants).toBe(0);
  });

  it('502 naming Genesys when it cannot be reached, and stores nothing', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const app = await startTestApp({ genesysBaseUrl: `http://127.0.0.1:${port}` });
    try {
      const res = await fetch(`${app.url}/v1/install`, {
        method: 'POST',
        headers: { authorization: `Bearer ${org.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ environment: ENV }),
      });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/Genesys Cloud \(mypurecloud\.com\)/);
      expect(await app.all('select count(*) as n from tenants')).toEqual([{ n: 0 }]);
    } finally {
      await app.close();
    }
  });
});

async function clientToken(w: World, o: SeededOrg): Promise<string> {
  const res = await w.app.deps.genesys.requestToken({ environment: ENV, ...o.grant });
  if (res.kind !== 'ok') throw new Error('no token');
  return res.value.accessToken;
}

describe('licensing (GENESYS_PRODUCT_ID)', () => {
  let licensed: World;
  beforeEach(async () => {
    licensed = await startWorld({ env: { GENESYS_PRODUCT_ID: 'attribute-relay-premium' } });
  });
  afterEach(() => licensed.close());

  it('an org that has not bought the app cannot install: 403 not_licensed, nothing created anywhere', async () => {
    const acme = seedOrg(licensed, 'Acme');
    const res = await install(licensed, acme);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      code: 'not_licensed',
      detail: expect.stringContaining('product attribute-relay-premium'),
    });
    await expectRows(licensed.app, acme.orgId, {});
    expect(licensed.emu.listRoles(acme.orgId).map((r) => r.name)).not.toContain(
      loadManifest().install.role.name,
    );
    expect(licensed.emu.requests.some((r) => r.path === '/api/v2/authorization/products')).toBe(true);

    licensed.emu.setProducts(acme.orgId, ['something-else', 'attribute-relay-premium']);
    expect((await install(licensed, acme)).status).toBe(201);
  });
});
