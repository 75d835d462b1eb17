import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENV, install, type SeededOrg, seedOrg, session, startWorld, type World } from '../helpers/world.js';

let world: World;
let org: SeededOrg;
beforeEach(async () => {
  world = await startWorld();
  org = seedOrg(world, 'Acme');
  expect((await install(world, org)).status).toBe(201);
});
afterEach(() => world.close());

function userWith(permissions: string[]): string {
  const u = world.emu.createUser({ orgId: org.orgId, name: 'Someone', permissions });
  return world.emu.createUserToken(u.id);
}

const newSession = (token: string, environment = ENV) =>
  world.call('POST', '/v1/session', { token, body: { environment } });

describe('POST /v1/session', () => {
  it('issues an admin session of at most one hour with the user and org', async () => {
    const res = await newSession(org.admin);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      token: string;
      expiresAt: string;
      orgId: string;
      role: string;
      user: unknown;
    };
    expect(body).toMatchObject({
      orgId: org.orgId,
      role: 'admin',
      user: { id: org.adminUserId, name: 'Acme Admin' },
    });
    const ttl = Date.parse(body.expiresAt) - world.clock.now();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    expect(body.token.split('.')).toHaveLength(3);
  });

  it.each([
    [['integration:attributeRelay:view'], 'viewer'],
    [['integration:attributeRelay:*'], 'admin'],
    [['integration:*:*'], 'admin'],
    [['*:*:*'], 'admin'],
    [['integration:attributeRelay:view', 'integration:attributeRelay:admin'], 'admin'],
    [['integration:attributeRelay:view:division-1'], 'viewer'],
  ])('maps %j to role %s', async (permissions, role) => {
    const res = await newSession(userWith(permissions));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { role: string }).role).toBe(role);
  });

  it.each([[[]], [['integration:otherApp:admin']], [['integration:attributeRelay']], [['conversation:*:*']]])(
    '403 without an app permission (%j)',
    async (permissions) => {
      const res = await newSession(userWith(permissions));
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    },
  );

  it('400 for an unlisted environment, with zero requests seen by Genesys', async () => {
    world.emu.clearRequests();
    for (const environment of [
      'evil.example.com',
      'api.mypurecloud.com',
      'https://login.mypurecloud.com',
      '127.0.0.1',
    ]) {
      const res = await newSession(org.admin, environment);
      expect(res.status).toBe(400);
    }
    expect(world.emu.requests).toHaveLength(0);
  });

  it('404 when the user’s org is not installed', async () => {
    const other = seedOrg(world, 'Elsewhere');
    const res = await newSession(other.admin);
    expect(res.status).toBe(404);
  });

  it('401 when the org was installed from another environment', async () => {
    const res = await newSession(org.admin, 'mypurecloud.ie');
    expect(res.status).toBe(401);
  });

  it.each([
    ['no token', undefined],
    ['an unknown token', 'x'.repeat(40)],
  ])('401 for %s', async (_, token) => {
    const res = await world.call('POST', '/v1/session', {
      ...(token ? { token } : {}),
      body: { environment: ENV },
    });
    expect(res.status).toBe(401);
  });

  it('401 for an expired Genesys user token', async () => {
    const u = world.emu.createUser({
      orgId: org.orgId,
      name: 'Short',
      permissions: ['integration:attributeRelay:admin'],
    });
    const token = world.emu.createUserToken(u.id, { expiresInSeconds: 60 });
    world.clock.advance(61_000);
    expect((await newSession(token)).status).toBe(401);
  });

  it('with GENESYS_OAUTH_CLIENT_ID, refuses user tokens issued to another app', async () => {
    await world.close();
    world = await startWorld({ env: { GENESYS_OAUTH_CLIENT_ID: 'relay-vendor-client' } });
    org = seedOrg(world, 'Acme');
    expect((await install(world, org)).status).toBe(401);
    const admin = world.emu.createUser({
      orgId: org.orgId,
      name: 'A',
      permissions: ['integration:attributeRelay:admin'],
    });
    const ours = world.emu.createUserToken(admin.id, {
      vendorApp: {
        id: 'relay-vendor-client',
        name: 'attribute-relay',
        orgId: 'vendor-org',
        authorizedGrantType: 'CODE',
      },
    });
    const res = await world.call('POST', '/v1/install', {
      token: ours,
      body: { environment: ENV, ...org.grant },
    });
    expect(res.status).toBe(201);
  });
});

describe('the session token', () => {
  it('opens admin routes; tampered, expired and foreign tokens get 401', async () => {
    const token = await session(world, org.admin);
    expect((await world.call('GET', '/v1/tenant', { token })).status).toBe(200);

    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin', org: 'someone-else' })).toString('base64url')}.${s}`;
    const flipped = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
    for (const bad of [forged, flipped, none, 'garbage', org.admin]) {
      const res = await world.call('GET', '/v1/tenant', { token: bad });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await world.call('GET', '/v1/tenant')).status).toBe(401);

    world.clock.advance(3_600_001);
    expect((await world.call('GET', '/v1/tenant', { token })).status).toBe(401);
  });

  it('ends with the org’s installation, also across a reinstall', async () => {
    const token = await session(world, org.admin);
    const viewerToken = await session(world, org.viewer);
    expect((await world.call('DELETE', '/v1/tenant', { token })).status).toBe(204);
    expect((await world.call('GET', '/v1/tenant', { token })).status).toBe(401);
    expect((await world.call('GET', '/v1/tenant', { token: viewerToken })).status).toBe(401);

    world.clock.advance(1_000);
    expect((await install(world, org)).status).toBe(201);
    expect((await world.call('GET', '/v1/tenant', { token })).status).toBe(401);
    expect((await world.call('GET', '/v1/tenant', { token: await session(world, org.admin) })).status).toBe(
      200,
    );
  });
});
