import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, type Harness, startEmulator, tokenRequest } from './harness.js';

const INVALID_CLIENT = {
  error: 'invalid_client',
  description: 'authentication failed',
  error_description: 'authentication failed',
};

let h: Harness;
let orgId: string;

beforeAll(async () => {
  h = await startEmulator();
  orgId = h.emu.createOrg({ name: 'Acme' }).id;
});
afterAll(() => h.close());

describe('POST /oauth/token', () => {
  it('issues an opaque bearer token with the client lifetime', async () => {
    const client = h.emu.createClient({ orgId, accessTokenValiditySeconds: 3600 });
    const res = await tokenRequest(h.url, client.id, client.secret);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 3600 });
    expect(body.access_token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(client.secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
  });

  it('defaults expires_in to 86400; the tokenLifetimeSeconds option overrides it', async () => {
    const client = h.emu.createClient({ orgId });
    const first = (await (await tokenRequest(h.url, client.id, client.secret)).json()) as {
      expires_in: number;
    };
    expect(first.expires_in).toBe(86_400);
    h.emu.configure({ tokenLifetimeSeconds: 120 });
    const second = (await (await tokenRequest(h.url, client.id, client.secret)).json()) as {
      expires_in: number;
    };
    expect(second.expires_in).toBe(120);
    h.emu.configure({ tokenLifetimeSeconds: undefined });
  });

  it('answers 401 invalid_client for a wrong secret, unknown client, or missing credentials', async () => {
    const client = h.emu.createClient({ orgId });
    for (const res of [
      await tokenRequest(h.url, client.id, 'wrong'),
      await tokenRequest(h.url, 'no-such-client', client.secret),
      await fetch(`${h.url}/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      }),
    ]) {
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual(INVALID_CLIENT);
    }
  });

  it('answers 400 unsupported_grant_type / invalid_request for a bad grant or no body', async () => {
    const client = h.emu.createClient({ orgId });
    const wrong = await tokenRequest(h.url, client.id, client.secret, 'grant_type=password');
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: 'unsupported_grant_type' });
    const empty = await fetch(`${h.url}/oauth/token`, {
      method: 'POST',
      headers: { Authorization: basic(client.id, client.secret) },
    });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe('token lifecycle on /api/v2', () => {
  const me = (token?: string) => h.call('/api/v2/organizations/me', token === undefined ? {} : { token });

  it('missing header → 401 authentication.required; garbage → 401 bad.credentials', async () => {
    const none = await me();
    expect(none.status).toBe(401);
    const body = (await none.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'authentication.required', status: 401, details: [], errors: [] });
    expect(body.contextId).toBe(none.headers.get('inin-correlation-id'));
    expect(none.headers.get('content-type')).toMatch(/^application\/json/);

    const garbage = await me('not-a-token');
    expect(garbage.status).toBe(401);
    expect(await garbage.json()).toMatchObject({
      code: 'bad.credentials',
      message: 'Invalid login credentials.',
    });
  });

  it('expires tokens by the injected clock', async () => {
    const client = h.emu.createClient({ orgId, accessTokenValiditySeconds: 300 });
    const token = await h.login(client.id, client.secret);
    expect((await me(token)).status).toBe(200);
    h.clock.advance(299_000);
    expect((await me(token)).status).toBe(200);
    h.clock.advance(1_000);
    const expired = await me(token);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ code: 'bad.credentials' });
  });

  it('disabling a client kills its live tokens and refuses new ones, even after re-enabling', async () => {
    const client = h.emu.createClient({ orgId });
    const token = await h.login(client.id, client.secret);
    h.emu.setClientState(client.id, 'Disabled');
    expect((await me(token)).status).toBe(401);
    const refused = await tokenRequest(h.url, client.id, client.secret);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual(INVALID_CLIENT);
    h.emu.setClientState(client.id, 'Active');
    expect((await me(token)).status).toBe(401);
    expect((await tokenRequest(h.url, client.id, client.secret)).status).toBe(200);
  });

  it('an Inactive client cannot log in', async () => {
    const client = h.emu.createClient({ orgId });
    h.emu.setClientState(client.id, 'Inactive');
    expect((await tokenRequest(h.url, client.id, client.secret)).status).toBe(401);
  });

  it('deleting a client kills its tokens and its logins', async () => {
    const client = h.emu.createClient({ orgId });
    const token = await h.login(client.id, client.secret);
    h.emu.deleteClient(client.id);
    expect((await me(token)).status).toBe(401);
    expect((await tokenRequest(h.url, client.id, client.secret)).status).toBe(401);
  });

  it('revokeToken kills one token only', async () => {
    const client = h.emu.createClient({ orgId });
    const a = await h.login(client.id, client.secret);
    const b = await h.login(client.id, client.secret);
    h.emu.revokeToken(a);
    expect((await me(a)).status).toBe(401);
    expect((await me(b)).status).toBe(200);
  });
});

describe('request log', () => {
  it('records every request with final status and identity, secrets redacted', async () => {
    const client = h.emu.createClient({ orgId });
    h.emu.clearRequests();
    const token = await h.login(client.id, client.secret);
    await h.call('/api/v2/organizations/me?x=1', { token });
    await h.call('/api/v2/organizations/me');
    await h.call('/__emulator/requests');
    expect(h.emu.requests).toHaveLength(3);
    const [login, ok, refused] = h.emu.requests;
    expect(login).toMatchObject({
      method: 'POST',
      path: '/oauth/token',
      status: 200,
      orgId,
      clientId: client.id,
    });
    expect(login?.body).toBe('grant_type=client_credentials');
    expect(login?.headers.authorization).toBe('Basic …');
    expect(ok).toMatchObject({ method: 'GET', path: '/api/v2/organizations/me', query: 'x=1', status: 200 });
    expect(ok).toMatchObject({ orgId, tokenKind: 'client', clientId: client.id });
    expect(ok?.headers.authorization).toBe(`Bearer ${token.slice(0, 4)}…`);
    expect(ok?.at).toBe(h.clock.now());
    expect(refused).toMatchObject({ status: 401 });
    expect(JSON.stringify(h.emu.requests)).not.toContain(token);
    expect(JSON.stringify(h.emu.requests)).not.toContain(client.secret);
  });
});
