import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startEmulator } from './harness.js';

let h: Harness;
let orgId: string;
let clientToken: string;
let clientId: string;

beforeAll(async () => {
  h = await startEmulator();
  orgId = h.emu.createOrg({ id: 'org-1', name: 'Acme Corp', thirdPartyOrgName: 'acme' }).id;
  const client = h.emu.createClient({ orgId, name: 'Relay' });
  clientId = client.id;
  clientToken = await h.login(client.id, client.secret);
});
afterAll(() => h.close());

describe('organizations/me', () => {
  it('returns the token org', async () => {
    const res = await h.call('/api/v2/organizations/me', { token: clientToken });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: 'org-1',
      name: 'Acme Corp',
      thirdPartyOrgName: 'acme',
      domain: 'acme',
      state: 'active',
      version: expect.any(Number),
      defaultLanguage: expect.any(String),
      selfUri: '/api/v2/organizations/org-1',
    });
  });
});

describe('tokens/me', () => {
  it('describes a client-credentials token', async () => {
    const res = await h.call('/api/v2/tokens/me', { token: clientToken });
    expect(res.status).toBe(200);
    const org = { id: 'org-1', name: 'Acme Corp', selfUri: '/api/v2/organizations/org-1' };
    expect(await res.json()).toMatchObject({
      organization: org,
      homeOrganization: org,
      authorizedScope: [],
      OAuthClient: {
        id: clientId,
        name: 'Relay',
        authorizedGrantType: 'CLIENT-CREDENTIALS',
        organization: { id: orgId },
      },
    });
  });

  it('reports the vendor app of a user token', async () => {
    const user = h.emu.createUser({ orgId, name: 'Ann' });
    const token = h.emu.createUserToken(user.id, {
      vendorApp: { id: 'vendor-client', name: 'Vendor', orgId: 'vendor-org' },
      scopes: ['user-basic-info'],
    });
    const body = (await (await h.call('/api/v2/tokens/me', { token })).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      organization: { id: orgId },
      authorizedScope: ['user-basic-info'],
      OAuthClient: { id: 'vendor-client', name: 'Vendor', organization: { id: 'vendor-org' } },
    });
  });
});

describe('users/me', () => {
  it('refuses a client-credentials token with 400 bad.request', async () => {
    const res = await h.call('/api/v2/users/me', { token: clientToken });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code: 'bad.request',
      message: 'This request is not valid when using the Client Credentials OAuth grant.',
    });
  });

  it('returns only the base user without expand', async () => {
    const user = h.emu.createUser({ orgId, name: 'Bo', email: 'bo@acme.test' });
    const res = await h.call('/api/v2/users/me', { token: h.emu.createUserToken(user.id) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ id: user.id, name: 'Bo', email: 'bo@acme.test', username: 'bo@acme.test' });
    expect(body).toMatchObject({ state: 'active', selfUri: `/api/v2/users/${user.id}` });
    expect(body).not.toHaveProperty('authorization');
    expect(body).not.toHaveProperty('organization');
  });

  it('expands authorization and organization (repeated or comma-separated)', async () => {
    const role = h.emu.createRole({
      orgId,
      name: 'Installer',
      permissionPolicies: [{ domain: 'oauth', entityName: 'client', actionSet: ['add', 'view'] }],
    });
    const user = h.emu.createUser({
      orgId,
      name: 'Cy',
      permissions: ['integration:examplePremiumApp:view'],
      roleIds: [role.id],
    });
    const token = h.emu.createUserToken(user.id);
    for (const query of ['expand=authorization&expand=organization', 'expand=authorization,organization']) {
      const body = (await (await h.call(`/api/v2/users/me?${query}`, { token })).json()) as {
        authorization: {
          roles: unknown[];
          unusedRoles: unknown[];
          permissions: string[];
          permissionPolicies: unknown[];
        };
        organization: unknown;
      };
      expect(body.authorization.roles).toEqual([{ id: role.id, name: 'Installer' }]);
      expect(body.authorization.unusedRoles).toEqual([]);
      expect(body.authorization.permissions.sort()).toEqual([
        'integration:examplePremiumApp:view',
        'oauth:client:add',
        'oauth:client:view',
      ]);
      expect(body.authorization.permissionPolicies).toContainEqual(
        expect.objectContaining({ domain: 'oauth', entityName: 'client', actionSet: ['add', 'view'] }),
      );
      expect(body.organization).toMatchObject({ id: orgId, thirdPartyOrgName: 'acme', state: 'active' });
    }
    const onlyOrg = (await (
      await h.call('/api/v2/users/me?expand=organization', { token })
    ).json()) as object;
    expect(onlyOrg).toHaveProperty('organization');
    expect(onlyOrg).not.toHaveProperty('authorization');
  });

  it('expires user tokens by the clock', async () => {
    const user = h.emu.createUser({ orgId, name: 'Di' });
    const token = h.emu.createUserToken(user.id, { expiresInSeconds: 60 });
    expect((await h.call('/api/v2/users/me', { token })).status).toBe(200);
    h.clock.advance(60_000);
    expect((await h.call('/api/v2/users/me', { token })).status).toBe(401);
  });
});

describe('routing', () => {
  it('answers an unknown /api/v2 route with a 404 ErrorBody', async () => {
    const res = await h.call('/api/v2/no/such/thing', { token: clientToken });
    expect(res.status).toBe(404);
    expect(res.headers.get('inin-correlation-id')).toBeTruthy();
    expect(await res.json()).toMatchObject({ code: 'not.found', status: 404 });
  });
});
