import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/tenants/manifest.js';
import { ON_POSTGRES } from '../helpers/app.js';
import {
  expectRows,
  install,
  rowsPerTable,
  type SeededOrg,
  seedOrg,
  session,
  startWorld,
  type World,
} from '../helpers/world.js';

let world: World;
let org: SeededOrg;
let admin: string;
let viewer: string;
beforeEach(async () => {
  world = await startWorld();
  org = seedOrg(world, 'Acme');
});
afterEach(() => world.close());

/**
 * An installed org's access token: a row of `org_tokens` on PostgreSQL, where instances share it
 * (src/genesys/shared-tokens.ts); in memory on SQLite.
 */
const TOKEN_ROW: Record<string, number> = ON_POSTGRES ? { org_tokens: 1 } : {};

async function installAs(mode: 'given' | 'provisioned') {
  expect((await install(world, org, mode)).status).toBe(201);
  admin = await session(world, org.admin);
  viewer = await session(world, org.viewer);
}

type TenantBody = {
  grant: { clientId: string; status: string; lastError: string | null; managed: boolean };
  settings: Record<string, number>;
};
const getTenant = async (token = admin) =>
  (await (await world.call('GET', '/v1/tenant', { token })).json()) as TenantBody;

function auditRows(kind: string) {
  return world.app.all<{ actor: string; detail: string; outcome: string }>(
    'select * from audit_log where org_id = ? and kind = ? order by id',
    org.orgId,
    kind,
  );
}

describe('GET and PATCH /v1/tenant', () => {
  beforeEach(() => installAs('given'));

  it('shows the tenant to viewers with their role', async () => {
    const res = await world.call('GET', '/v1/tenant', { token: viewer });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ orgId: org.orgId, role: 'viewer' });
  });

  it('changes settings, audits only what changed, and refuses viewers', async () => {
    const res = await world.call('PATCH', '/v1/tenant', {
      token: admin,
      body: { settings: { requestsPerMinute: 120, auditRetentionDays: 90 } },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as TenantBody & { delivery: unknown };
    expect(body.settings).toEqual({
      requestsPerMinute: 120,
      auditRetentionDays: 90,
      endedParticipants: 'skip',
      maxAttributeValueLength: 2000,
    });
    // The same delivery block as GET /v1/tenant, so a settings page need not read twice.
    const got = (await (await world.call('GET', '/v1/tenant', { token: admin })).json()) as {
      delivery: unknown;
    };
    expect(body.delivery).toEqual(got.delivery);
    const rows = await auditRows('tenant.updated');
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]!.detail)).toEqual({ changed: { requestsPerMinute: { from: 300, to: 120 } } });
    expect(JSON.parse(rows[0]!.actor)).toEqual({ type: 'user', id: org.adminUserId, name: 'Acme Admin' });

    // Nothing differs: no audit row.
    await world.call('PATCH', '/v1/tenant', { token: admin, body: { settings: { requestsPerMinute: 120 } } });
    expect(await auditRows('tenant.updated')).toHaveLength(1);

    const denied = await world.call('PATCH', '/v1/tenant', {
      token: viewer,
      body: { settings: { requestsPerMinute: 1 } },
    });
    expect(denied.status).toBe(403);
    expect((await getTenant()).settings.requestsPerMinute).toBe(120);
  });

  it('422 with paths for out-of-range or unknown settings, changing nothing', async () => {
    const res = await world.call('PATCH', '/v1/tenant', {
      token: admin,
      body: {
        settings: {
          requestsPerMinute: 0,
          auditRetentionDays: 3651,
          endedParticipants: 'always',
          colour: 'red',
        },
      },
    });
    expect(res.status).toBe(422);
    const paths = ((await res.json()) as { errors: Array<{ path: string }> }).errors
      .map((e) => e.path)
      .sort();
    expect(paths).toEqual([
      'settings',
      'settings.auditRetentionDays',
      'settings.endedParticipants',
      'settings.requestsPerMinute',
    ]);
    expect((await getTenant()).settings).toEqual({
      requestsPerMinute: 300,
      auditRetentionDays: 90,
      endedParticipants: 'skip',
      maxAttributeValueLength: 2000,
    });
    expect(await auditRows('tenant.updated')).toHaveLength(0);
  });
});

describe('PUT /v1/grant', () => {
  beforeEach(() => installAs('given'));

  it('verifies the new grant before replacing, then the org uses it', async () => {
    const next = world.emu.createClient({
      orgId: org.orgId,
      permissions: ['conversation:communication:view'],
    });
    const wrong = await world.call('PUT', '/v1/grant', {
      token: admin,
      body: { clientId: next.id, clientSecret: 'nope' },
    });
    expect(wrong.status).toBe(422);
    expect((await getTenant()).grant.clientId).toBe(org.grant.clientId);

    const foreign = seedOrg(world, 'Foreign');
    expect((await world.call('PUT', '/v1/grant', { token: admin, body: foreign.grant })).status).toBe(422);
    expect(
      (
        await world.call('PUT', '/v1/grant', {
          token: viewer,
          body: { clientId: next.id, clientSecret: next.secret },
        })
      ).status,
    ).toBe(403);

    // The org has a cached token for the old grant...
    const conv = world.emu.createConversation({ orgId: org.orgId, participants: [{ purpose: 'customer' }] });
    await world.app.deps.genesys.forOrg(org.orgId).getConversation(conv.id);
    expect(world.emu.requests.at(-1)?.clientId).toBe(org.grant.clientId);

    const ok = await world.call('PUT', '/v1/grant', {
      token: admin,
      body: { clientId: next.id, clientSecret: next.secret },
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as TenantBody).grant).toMatchObject({
      clientId: next.id,
      managed: false,
      status: 'ok',
    });
    // ...which is dropped: the next call fetches a token for the new grant.
    await world.app.deps.genesys.forOrg(org.orgId).getConversation(conv.id);
    expect(world.emu.requests.at(-1)?.clientId).toBe(next.id);
    const rows = await auditRows('grant.updated');
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]!.detail)).toEqual({ clientId: next.id, previousClientId: org.grant.clientId });
  });
});

describe('grant health', () => {
  beforeEach(() => installAs('given'));

  it('turns invalid_credentials when Genesys refuses the grant, and ok again when it works', async () => {
    world.emu.setClientState(org.grant.clientId, 'Disabled');
    const conv = world.emu.createConversation({ orgId: org.orgId, participants: [{ purpose: 'customer' }] });
    const refused = await world.app.deps.genesys.forOrg(org.orgId).getConversation(conv.id);
    expect(refused.kind).toBe('unauthorized');
    await expect.poll(async () => (await getTenant()).grant.status).toBe('invalid_credentials');
    expect((await getTenant()).grant.lastError).toMatch(/^invalid_client/);

    world.emu.setClientState(org.grant.clientId, 'Active');
    world.clock.advance(5_000);
    await world.app.deps.genesys.forOrg(org.orgId).getConversation(conv.id);
    await expect.poll(async () => (await getTenant()).grant.status).toBe('ok');
    const t = (await (await world.call('GET', '/v1/tenant', { token: admin })).json()) as {
      grant: { lastTokenAt: string; lastError: null };
    };
    expect(t.grant.lastError).toBeNull();
    expect(Date.parse(t.grant.lastTokenAt)).toBe(world.clock.now());
  });
});

describe('DELETE /v1/tenant', () => {
  it('with a given grant: purges every row of the org but one tenant.uninstalled audit row', async () => {
    await installAs('given');
    const other = seedOrg(world, 'Other');
    expect((await install(world, other)).status).toBe(201);
    await world.call('PATCH', '/v1/tenant', { token: admin, body: { settings: { requestsPerMinute: 100 } } });
    await expectRows(world.app, org.orgId, { tenants: 1, audit_log: 2, audit_heads: 1, ...TOKEN_ROW });

    expect((await world.call('DELETE', '/v1/tenant', { token: viewer })).status).toBe(403);
    const res = await world.call('DELETE', '/v1/tenant', { token: admin });
    expect(res.status).toBe(204);
    await expectRows(world.app, org.orgId, { audit_log: 1, audit_heads: 1 });
    expect(await auditRows('tenant.uninstalled')).toHaveLength(1);
    // The other org is untouched, and the given OAuth client stays (it is the org's own).
    await expectRows(world.app, other.orgId, { tenants: 1, audit_log: 1, audit_heads: 1, ...TOKEN_ROW });
    expect(world.emu.listOAuthClients(org.orgId).map((c) => c.id)).toContain(org.grant.clientId);
  });

  it('with a grant we created: needs the admin’s Genesys token, then deletes the client and role there', async () => {
    await installAs('provisioned');
    const { grant } = await getTenant();
    const without = await world.call('DELETE', '/v1/tenant', { token: admin });
    expect(without.status).toBe(400);
    expect(((await without.json()) as { detail: string }).detail).toMatch(/X-Genesys-Token/);
    expect((await rowsPerTable(world.app, org.orgId)).tenants).toBe(1);

    const wrongOrg = seedOrg(world, 'Else');
    expect(
      (
        await world.call('DELETE', '/v1/tenant', {
          token: admin,
          headers: { 'x-genesys-token': wrongOrg.admin },
        })
      ).status,
    ).toBe(403);

    const res = await world.call('DELETE', '/v1/tenant', {
      token: admin,
      headers: { 'x-genesys-token': org.admin },
    });
    expect(res.status).toBe(204);
    expect(world.emu.listOAuthClients(org.orgId).map((c) => c.id)).not.toContain(grant.clientId);
    expect(world.emu.listRoles(org.orgId).map((r) => r.name)).not.toContain(loadManifest().install.role.name);
    await expectRows(world.app, org.orgId, { audit_log: 1, audit_heads: 1 });
    const detail = JSON.parse((await auditRows('tenant.uninstalled'))[0]!.detail);
    expect(detail).toMatchObject({
      clientId: grant.clientId,
      managed: true,
      oauthClientDeleted: true,
      roleDeleted: true,
    });
  });
});
