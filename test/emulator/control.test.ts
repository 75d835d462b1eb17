import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startEmulator, tokenRequest } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startEmulator();
});
afterAll(() => h.close());

type Json = Record<string, unknown>;
async function control(
  method: string,
  path: string,
  json?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await h.call(`/__emulator${path}`, { method, json });
  return { status: res.status, body: (await res.json()) as Json };
}

describe('HTTP control surface', () => {
  it('sets the products an org bought; any token of the org reads them, with no permission', async () => {
    const { orgId, token } = await h.orgWithClient('Buyer', []);
    const products = async () =>
      (await (await h.call('/api/v2/authorization/products', { token })).json()) as { entities: unknown[] };
    expect((await products()).entities).toEqual([]);
    expect(await control('PUT', `/orgs/${orgId}/products`, { products: ['relay-premium'] })).toEqual({
      status: 200,
      body: { orgId, products: ['relay-premium'] },
    });
    expect((await products()).entities).toEqual([{ id: 'relay-premium' }]);
    expect((await control('PUT', '/orgs/nope/products', { products: [] })).status).toBe(404);
  });

  it('sets up an org, client and conversation that the Genesys API then serves', async () => {
    const org = await control('POST', '/orgs', { name: 'Demo Org' });
    expect(org.status).toBe(201);
    const orgId = org.body.id as string;
    const client = await control('POST', '/clients', {
      orgId,
      permissions: ['conversation:communication:view'],
    });
    expect(client.body).toEqual({ id: expect.any(String), secret: expect.any(String) });
    const conv = await control('POST', '/conversations', {
      orgId,
      participants: [{ id: 'p1', purpose: 'customer', attributes: { a: '1' } }],
    });
    expect(conv.status).toBe(201);
    const cid = conv.body.id as string;

    await control('DELETE', '/requests');
    const token = await h.login(client.body.id as string, client.body.secret as string);
    const patched = await h.call(`/api/v2/conversations/${cid}/participants/p1/attributes`, {
      method: 'PATCH',
      token,
      json: { attributes: { b: '2' } },
    });
    expect(patched.status).toBe(202);

    const state = await control('GET', `/conversations/${cid}`);
    expect(state.body).toMatchObject({
      id: cid,
      orgId,
      participants: [{ id: 'p1', attributes: { a: '1', b: '2' } }],
    });
    const log = await h.call('/__emulator/requests');
    const requests = (await log.json()) as Json[];
    expect(requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', '/oauth/token', 200],
      ['PATCH', `/api/v2/conversations/${cid}/participants/p1/attributes`, 202],
    ]);
    expect(JSON.stringify(requests)).not.toContain(token);
    // A poller reads only what came after what it has.
    const newer = (await (await h.call('/__emulator/requests?from=1')).json()) as Json[];
    expect(newer.map((r) => r.method)).toEqual(['PATCH']);
  });

  it('drives users, roles, tokens, client state, participants, faults and config', async () => {
    const orgId = (await control('POST', '/orgs', { name: 'Ctl' })).body.id as string;
    const role = await control('POST', '/roles', {
      orgId,
      name: 'Viewer',
      permissions: ['conversation:*:view'],
    });
    expect(role.body).toMatchObject({ name: 'Viewer', permissions: ['conversation:*:view'] });
    const user = await control('POST', '/users', { orgId, name: 'Uma', roleIds: [role.body.id] });
    const userToken = (await control('POST', `/users/${user.body.id}/tokens`, {})).body.token as string;
    expect((await h.call('/api/v2/users/me', { token: userToken })).status).toBe(200);
    expect((await control('GET', `/orgs/${orgId}/roles`)).body).toHaveLength(1);

    const client = await control('POST', '/clients', { orgId, roleIds: [role.body.id] });
    const cid = client.body.id as string;
    const secret = client.body.secret as string;
    const token = await h.login(cid, secret);
    expect((await control('PUT', `/clients/${cid}/state`, { state: 'Disabled' })).status).toBe(200);
    expect((await control('GET', `/orgs/${orgId}/clients`)).body).toEqual([
      {
        id: cid,
        name: 'Emulated client',
        state: 'Disabled',
        roleIds: [role.body.id],
        roleDivisions: [{ roleId: role.body.id, divisionId: expect.any(String) }],
      },
    ]);
    expect((await h.call('/api/v2/organizations/me', { token })).status).toBe(401);
    expect((await control('DELETE', `/clients/${cid}`)).status).toBe(200);
    expect((await tokenRequest(h.url, cid, secret)).status).toBe(401);

    await control('POST', '/tokens/revoke', { token: userToken });
    expect((await h.call('/api/v2/users/me', { token: userToken })).status).toBe(401);

    const conv = await control('POST', '/conversations', { orgId, participants: [] });
    const convId = conv.body.id as string;
    const added = await control('POST', `/conversations/${convId}/participants`, {
      id: 'p',
      purpose: 'agent',
    });
    expect(added.body).toMatchObject({ id: 'p', purpose: 'agent', media: 'call' });
    await control('POST', `/conversations/${convId}/participants/p/end`);
    expect((await control('GET', `/conversations/${convId}`)).body.endTime).toBe(h.clock.now());
    await control('POST', `/conversations/${convId}/end`);

    await control('POST', '/faults', { pathRegex: '^/api/v2/', status: 504, times: 'Infinity' });
    expect((await h.call('/api/v2/organizations/me')).status).toBe(504);
    expect((await h.call('/api/v2/tokens/me')).status).toBe(504);
    await control('DELETE', '/faults');
    expect((await h.call('/api/v2/organizations/me')).status).toBe(401);

    const config = await control('PATCH', '/config', { attributeMode: 'replace', rateLimitPerMinute: null });
    expect(config.body).toMatchObject({
      attributeMode: 'replace',
      rateLimitPerMinute: null,
      endedParticipantPatch: 'accept',
    });
    await control('PATCH', '/config', { attributeMode: 'merge', rateLimitPerMinute: 300 });

    const before = h.clock.now();
    await control('POST', '/clock/advance', { ms: 5_000 });
    const c2 = await control('POST', '/conversations', { orgId, participants: [] });
    expect(c2.body.createdAt).toBe(before + 5_000);
  });

  it('answers 400/404 JSON on bad input and is never recorded', async () => {
    h.emu.clearRequests();
    const bad = await control('POST', '/orgs', { nope: true });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toEqual(expect.any(String));
    expect((await control('POST', '/clients', { orgId: 'missing' })).status).toBe(404);
    const notJson = await h.call('/__emulator/orgs', {
      method: 'POST',
      body: '{',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
    expect((await control('GET', '/conversations/nope')).status).toBe(404);
    expect(h.emu.requests).toEqual([]);
  });
});

describe('org isolation', () => {
  it('two orgs see only their own conversations, roles and clients', async () => {
    const a = await h.orgWithClient('Org A', ['*:*:*']);
    const b = await h.orgWithClient('Org B', ['*:*:*']);
    const convA = h.emu.createConversation({
      orgId: a.orgId,
      participants: [{ id: 'x', purpose: 'customer' }],
    });
    const asB = (path: string, init: Parameters<Harness['call']>[1] = {}) =>
      h.call(path, { ...init, token: b.token });
    expect((await asB(`/api/v2/conversations/${convA.id}`)).status).toBe(404);
    const patch = { method: 'PATCH', json: { attributes: { evil: '1' } } };
    expect((await asB(`/api/v2/conversations/${convA.id}/participants/x/attributes`, patch)).status).toBe(
      404,
    );
    expect(h.emu.getConversation(convA.id)?.participants[0]?.attributes).toEqual({});
    const orgB = (await (await asB('/api/v2/organizations/me')).json()) as Json;
    expect(orgB.id).toBe(b.orgId);
    const rolesB = (await (await asB('/api/v2/authorization/roles')).json()) as { entities: Json[] };
    expect(rolesB.entities.map((r) => r.name)).toEqual(['Org B relay role']);
    const clientsB = (await (await asB('/api/v2/oauth/clients')).json()) as { entities: Json[] };
    expect(clientsB.entities).toHaveLength(1);
  });
});

describe('npm run emulator entry', () => {
  it('prints its URL as one JSON line, serves, and exits 0 on SIGTERM', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/emulator/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', EMULATOR_PORT: '0', EMULATOR_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    let out = '';
    while (!out.includes('\n')) out += String(((await once(child.stdout, 'data')) as [Buffer])[0]);
    const line = JSON.parse(out.split('\n')[0] ?? '') as { url: string };
    expect(line.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const org = await fetch(`${line.url}/__emulator/orgs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Proc' }),
    });
    expect(org.status).toBe(201);
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });
});
