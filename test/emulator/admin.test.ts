import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startEmulator, tokenRequest } from './harness.js';

let h: Harness;
let orgId: string;
let adminId: string;
let admin: string;

const WIZARD_PERMISSIONS = [
  'authorization:role:add',
  'authorization:role:view',
  'authorization:grant:add',
  'oauth:client:add',
  'oauth:client:view',
  'oauth:client:edit',
  'oauth:client:delete',
];

beforeAll(async () => {
  h = await startEmulator();
  orgId = h.emu.createOrg({ name: 'Customer' }).id;
  adminId = h.emu.createUser({ orgId, name: 'Admin', permissions: WIZARD_PERMISSIONS }).id;
  admin = h.emu.createUserToken(adminId);
});
afterAll(() => h.close());

type Json = Record<string, unknown>;
async function call(method: string, path: string, json?: unknown, token = admin) {
  const res = await h.call(path, { method, token, json });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json };
}

/** The wizard's order: create role, grant it to self, create a client holding it. */
async function installRole(
  name: string,
  policies = [{ domain: 'conversation', entityName: 'communication', actionSet: ['view'] }],
) {
  const role = await call('POST', '/api/v2/authorization/roles', {
    name,
    description: 'd',
    permissionPolicies: policies,
  });
  expect(role.status).toBe(200);
  const roleId = role.body.id as string;
  const add = await call('PUT', `/api/v2/authorization/roles/${roleId}/users/add`, [adminId]);
  expect(add).toEqual({ status: 200, body: [adminId] });
  return roleId;
}

describe('authorization roles', () => {
  it('creates a role with permissionPolicies and lists it by name', async () => {
    const created = await call('POST', '/api/v2/authorization/roles', {
      name: 'PREMIUM_EXAMPLE_Role',
      description: 'app role',
      permissionPolicies: [{ domain: 'integration', entityName: 'examplePremiumApp', actionSet: ['*'] }],
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      id: expect.any(String),
      name: 'PREMIUM_EXAMPLE_Role',
      description: 'app role',
      permissionPolicies: [{ domain: 'integration', entityName: 'examplePremiumApp', actionSet: ['*'] }],
      selfUri: `/api/v2/authorization/roles/${created.body.id}`,
    });
    const dup = await call('POST', '/api/v2/authorization/roles', { name: 'PREMIUM_EXAMPLE_Role' });
    expect(dup.status).toBe(409);
    const list = await call('GET', '/api/v2/authorization/roles?name=PREMIUM_EXAMPLE_*');
    expect(list.body).toMatchObject({
      total: 1,
      pageNumber: 1,
      pageSize: 25,
      entities: [{ id: created.body.id }],
    });
    expect((await call('GET', `/api/v2/authorization/roles/${created.body.id}`)).status).toBe(200);
    expect(h.emu.listRoles(orgId).map((r) => r.name)).toContain('PREMIUM_EXAMPLE_Role');
  });

  it('users/add grants the role, visible in users/me', async () => {
    const roleId = await installRole('Granted', [
      { domain: 'integration', entityName: 'app', actionSet: ['view'] },
    ]);
    const me = await call('GET', '/api/v2/users/me?expand=authorization');
    const auth = me.body.authorization as { roles: Json[]; permissions: string[] };
    expect(auth.roles).toContainEqual({ id: roleId, name: 'Granted' });
    expect(auth.permissions).toContain('integration:app:view');
  });

  it('403 missing.permissions without authorization:role:add; 400 on a bad body; 404 for other orgs', async () => {
    const plain = h.emu.createUserToken(h.emu.createUser({ orgId, name: 'Plain' }).id);
    const denied = await call('POST', '/api/v2/authorization/roles', { name: 'x' }, plain);
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ code: 'missing.permissions' });
    expect(denied.body.message).toContain('authorization:role:add');
    expect((await call('POST', '/api/v2/authorization/roles', { description: 'no name' })).status).toBe(400);
    const otherOrg = h.emu.createOrg({ name: 'Elsewhere' }).id;
    const foreign = h.emu.createRole({ orgId: otherOrg, name: 'Foreign' });
    expect((await call('GET', `/api/v2/authorization/roles/${foreign.id}`)).status).toBe(404);
    expect((await call('PUT', `/api/v2/authorization/roles/${foreign.id}/users/add`, [adminId])).status).toBe(
      404,
    );
  });

  it('deletes a role', async () => {
    const role = h.emu.createRole({ orgId, name: 'Doomed' });
    const admin2 = h.emu.createUserToken(
      h.emu.createUser({ orgId, name: 'Deleter', permissions: ['authorization:role:*'] }).id,
    );
    expect((await call('DELETE', `/api/v2/authorization/roles/${role.id}`, undefined, admin2)).status).toBe(
      204,
    );
    expect(h.emu.listRoles(orgId).some((r) => r.id === role.id)).toBe(false);
  });
});

describe('oauth clients', () => {
  it('creates a client-credentials client whose token carries the role permissions', async () => {
    const roleId = await installRole('Relay role');
    const created = await call('POST', '/api/v2/oauth/clients', {
      name: 'Relay',
      description: 'attribute relay',
      authorizedGrantType: 'CLIENT-CREDENTIALS',
      accessTokenValiditySeconds: 86_400,
      roleIds: [roleId],
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      id: expect.any(String),
      name: 'Relay',
      description: 'attribute relay',
      secret: expect.any(String),
      authorizedGrantType: 'CLIENT-CREDENTIALS',
      accessTokenValiditySeconds: 86_400,
      roleIds: [roleId],
      state: 'Active',
      dateCreated: new Date(h.clock.now()).toISOString(),
    });
    const id = created.body.id as string;
    const home = h.emu.listDivisions(orgId).find((d) => d.homeDivision)!;
    expect(h.emu.listOAuthClients(orgId)).toContainEqual({
      id,
      name: 'Relay',
      state: 'Active',
      roleIds: [roleId],
      // roleIds is deprecated: each role lands in the Home division.
      roleDivisions: [{ roleId, divisionId: home.id }],
    });

    const token = await h.login(id, created.body.secret as string);
    const conv = h.emu.createConversation({ orgId, participants: [{ purpose: 'customer' }] });
    expect((await call('GET', `/api/v2/conversations/${conv.id}`, undefined, token)).status).toBe(200);
    expect((await call('GET', '/api/v2/oauth/clients', undefined, token)).status).toBe(403);
    expect((await call('GET', `/api/v2/oauth/clients/${id}`)).body).toMatchObject({
      id,
      secret: created.body.secret,
    });
  });

  it('refuses a role the calling user does not hold, and an unknown role', async () => {
    const unheld = h.emu.createRole({ orgId, name: 'Not mine', permissions: ['*:*:*'] });
    const body = { name: 'Sneaky', authorizedGrantType: 'CLIENT-CREDENTIALS', roleIds: [unheld.id] };
    const refused = await call('POST', '/api/v2/oauth/clients', body);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'bad.request' });
    expect((await call('POST', '/api/v2/oauth/clients', { ...body, roleIds: ['nope'] })).status).toBe(400);
    expect(h.emu.listOAuthClients(orgId).some((c) => c.name === 'Sneaky')).toBe(false);
  });

  it('validates accessTokenValiditySeconds (300–172800)', async () => {
    const body = {
      name: 'Short',
      authorizedGrantType: 'CLIENT-CREDENTIALS',
      accessTokenValiditySeconds: 299,
    };
    expect((await call('POST', '/api/v2/oauth/clients', body)).status).toBe(400);
  });

  it('PUT with state Disabled (any case) kills live tokens; DELETE removes the client', async () => {
    const roleId = await installRole('Lifecycle role');
    const created = await call('POST', '/api/v2/oauth/clients', {
      name: 'Lifecycle',
      authorizedGrantType: 'CLIENT-CREDENTIALS',
      roleIds: [roleId],
    });
    const id = created.body.id as string;
    const secret = created.body.secret as string;
    const token = await h.login(id, secret);
    const put = await call('PUT', `/api/v2/oauth/clients/${id}`, {
      name: 'Lifecycle',
      authorizedGrantType: 'CLIENT-CREDENTIALS',
      roleIds: [roleId],
      state: 'inactive',
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ state: 'Inactive' });
    expect((await call('GET', '/api/v2/organizations/me', undefined, token)).status).toBe(401);
    expect((await tokenRequest(h.url, id, secret)).status).toBe(401);

    expect((await call('DELETE', `/api/v2/oauth/clients/${id}`)).status).toBe(204);
    expect((await call('GET', `/api/v2/oauth/clients/${id}`)).status).toBe(404);
    expect(h.emu.listOAuthClients(orgId).some((c) => c.id === id)).toBe(false);
  });

  it("another org's client is 404", async () => {
    const other = h.emu.createOrg({ name: 'Other' }).id;
    const foreign = h.emu.createClient({ orgId: other });
    expect((await call('GET', `/api/v2/oauth/clients/${foreign.id}`)).status).toBe(404);
    expect((await call('DELETE', `/api/v2/oauth/clients/${foreign.id}`)).status).toBe(404);
  });
});
