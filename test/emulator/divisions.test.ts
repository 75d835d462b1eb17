import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startEmulator } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const VIEW = ['conversation:communication:view'];

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe('divisions', () => {
  it('every org has its Home division, and lists its divisions to any token of the org', async () => {
    h = await startEmulator();
    const { orgId, token } = await h.orgWithClient('Acme', []);
    const sales = h.emu.createDivision({ orgId, name: 'Sales' });
    h.emu.createDivision({ orgId: h.emu.createOrg({ name: 'Other' }).id, name: 'Elsewhere' });

    const res = await h.call('/api/v2/authorization/divisions?pageSize=1&pageNumber=2', { token });
    expect(res.status).toBe(200);
    const page = await json(res);
    expect(page).toMatchObject({ pageSize: 1, pageNumber: 2, total: 2, pageCount: 2 });
    expect(page.entities).toEqual([
      expect.objectContaining({ id: sales.id, name: 'Sales', homeDivision: false }),
    ]);
    const home = await json(await h.call('/api/v2/authorization/divisions/home', { token }));
    expect(home).toMatchObject({ name: 'Home', homeDivision: true });
  });

  it('a client whose role is only in Home cannot read a conversation of another division', async () => {
    h = await startEmulator();
    const { orgId, token } = await h.orgWithClient('Acme', VIEW);
    const sales = h.emu.createDivision({ orgId, name: 'Sales' });
    const conv = h.emu.createConversation({
      orgId,
      divisionIds: [sales.id],
      participants: [{ id: 'cust', purpose: 'customer' }],
    });

    const get = await h.call(`/api/v2/conversations/${conv.id}`, { token });
    expect(get.status).toBe(403);
    expect(await json(get)).toMatchObject({ code: 'not.authorized', status: 403 });
    const patch = await h.call(`/api/v2/conversations/${conv.id}/participants/cust/attributes`, {
      method: 'PATCH',
      token,
      json: { attributes: { a: '1' } },
    });
    expect(patch.status).toBe(403);
    expect(h.emu.getConversation(conv.id)?.participants[0]?.attributes).toEqual({});

    h.emu.configure({ divisionRefusal: 404 });
    expect((await h.call(`/api/v2/conversations/${conv.id}`, { token })).status).toBe(404);
  });

  it('roleDivisions put a role in the divisions they name; the conversation shows its divisions', async () => {
    h = await startEmulator();
    const org = h.emu.createOrg({ name: 'Acme' });
    const sales = h.emu.createDivision({ orgId: org.id, name: 'Sales' });
    const role = h.emu.createRole({ orgId: org.id, name: 'Viewer', permissions: VIEW });
    const admin = h.emu.createUserToken(
      h.emu.createUser({ orgId: org.id, name: 'Ada', permissions: ['oauth:client:add'], roleIds: [role.id] })
        .id,
    );
    const created = await h.call('/api/v2/oauth/clients', {
      method: 'POST',
      token: admin,
      json: {
        name: 'Relay',
        authorizedGrantType: 'CLIENT-CREDENTIALS',
        roleDivisions: [{ roleId: role.id, divisionId: sales.id }],
      },
    });
    expect(created.status).toBe(200);
    const client = await json(created);
    expect(client.roleDivisions).toEqual([{ roleId: role.id, divisionId: sales.id }]);
    const token = await h.login(client.id as string, client.secret as string);
    const info = await json(await h.call('/api/v2/tokens/me', { token }));
    expect(info.OAuthClient).toMatchObject({ roleDivisions: [{ roleId: role.id, divisionId: sales.id }] });

    const conv = h.emu.createConversation({ orgId: org.id, divisionIds: [sales.id], participants: [] });
    const res = await h.call(`/api/v2/conversations/${conv.id}`, { token });
    expect(res.status).toBe(200);
    expect((await json(res)).divisions).toEqual([
      { division: { id: sales.id, selfUri: `/api/v2/authorization/divisions/${sales.id}` }, entities: [] },
    ]);

    const unknown = await h.call('/api/v2/oauth/clients', {
      method: 'POST',
      token: admin,
      json: {
        name: 'X',
        authorizedGrantType: 'CLIENT-CREDENTIALS',
        roleDivisions: [{ roleId: role.id, divisionId: '*' }],
      },
    });
    expect(unknown.status).toBe(400);
  });
});

describe('role grant propagation', () => {
  it('a role just granted shows in users/me, and may go on a client, only after roleGrantDelayMs', async () => {
    h = await startEmulator({ roleGrantDelayMs: 5_000 });
    const org = h.emu.createOrg({ name: 'Acme' });
    const role = h.emu.createRole({ orgId: org.id, name: 'Relay', permissions: VIEW });
    const user = h.emu.createUser({
      orgId: org.id,
      name: 'Ada',
      permissions: ['authorization:grant:add', 'oauth:client:add'],
    });
    const token = h.emu.createUserToken(user.id);
    const add = await h.call(`/api/v2/authorization/roles/${role.id}/users/add`, {
      method: 'PUT',
      token,
      json: [user.id],
    });
    expect(add.status).toBe(200);
    const roles = async () =>
      (
        (await json(await h.call('/api/v2/users/me?expand=authorization', { token }))).authorization as {
          roles: { id: string }[];
        }
      ).roles.map((r) => r.id);
    const client = () =>
      h.call('/api/v2/oauth/clients', {
        method: 'POST',
        token,
        json: { name: 'Relay', authorizedGrantType: 'CLIENT-CREDENTIALS', roleIds: [role.id] },
      });

    expect(await roles()).toEqual([]);
    expect((await client()).status).toBe(400);
    h.clock.advance(4_999);
    expect(await roles()).toEqual([]);
    h.clock.advance(1);
    expect(await roles()).toEqual([role.id]);
    expect((await client()).status).toBe(200);
  });
});
