import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, type Harness, startEmulator } from './harness.js';

const REDIRECT = 'http://localhost:8080/';
const ORIGIN = 'http://localhost:8080';

let h: Harness;
let vendor: { id: string; secret: string };
let vendorOrgId: string;
let acmeOrgId: string;
let adaId: string;

type Json = Record<string, unknown>;

async function control(path: string, json: unknown): Promise<Json> {
  const res = await h.call(`/__emulator${path}`, { method: 'POST', json });
  if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Json;
}

beforeAll(async () => {
  h = await startEmulator();
  // The app's own client lives in the vendor's org; users of any org sign in with it.
  vendorOrgId = (await control('/orgs', { name: 'Vendor' })).id as string;
  vendor = (await control('/clients', {
    orgId: vendorOrgId,
    name: 'attribute-relay',
    authorizedGrantType: 'CODE',
    registeredRedirectUri: [REDIRECT],
  })) as { id: string; secret: string };
  acmeOrgId = (await control('/orgs', { name: 'Acme' })).id as string;
  adaId = (await control('/users', { orgId: acmeOrgId, name: 'Ada Admin', email: 'ada@acme.example.com' }))
    .id as string;
  await control('/users', { orgId: vendorOrgId, name: 'Vera Vendor' });
});
afterAll(() => h.close());

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeQuery(challenge: string, extra: Record<string, string> = {}): string {
  return new URLSearchParams({
    response_type: 'code',
    client_id: vendor.id,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st-123',
    ...extra,
  }).toString();
}

interface SignInButton {
  name: string;
  text: string;
  action: string;
  fields: Record<string, string>;
}

/** The page's sign-in forms as a user sees them: each button's accessible name, text and form. */
function signInButtons(html: string): SignInButton[] {
  const decode = (s: string) =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  return [...html.matchAll(/<form method="post" action="([^"]+)">(.*?)<\/form>/gs)].map(
    ([, action, inner]) => {
      const fields = Object.fromEntries(
        [...(inner ?? '').matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(
          ([, n, v]) => [decode(n ?? ''), decode(v ?? '')],
        ),
      );
      const button = /<button[^>]*aria-label="([^"]+)"[^>]*>(.*?)<\/button>/s.exec(inner ?? '');
      const text = decode(
        (button?.[2] ?? '')
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim(),
      );
      return { name: decode(button?.[1] ?? ''), text, action: action ?? '', fields };
    },
  );
}

/** Presses "Sign in as <userName>" on the page for `query`; the answer is not followed. */
async function signIn(query: string, userName = 'Ada Admin'): Promise<Response> {
  const page = await h.call(`/oauth/authorize?${query}`);
  const button = signInButtons(await page.text()).find((b) => b.name === `Sign in as ${userName}`);
  if (!button) throw new Error(`no button for ${userName}`);
  return h.call(button.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(button.fields).toString(),
    redirect: 'manual',
  });
}

/** A code for Ada; without a challenge, a code of the confidential (no PKCE) flow. */
async function codeFor(challenge?: string): Promise<string> {
  const query = new URLSearchParams(authorizeQuery(challenge ?? ''));
  if (challenge === undefined) {
    query.delete('code_challenge');
    query.delete('code_challenge_method');
  }
  const res = await signIn(query.toString());
  return new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
}

function exchange(fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return h.call('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      redirect_uri: REDIRECT,
      client_id: vendor.id,
      ...fields,
    }).toString(),
  });
}

describe('PKCE sign-in', () => {
  it('lists every org’s users, redirects with a code, and the code becomes a user token of the client', async () => {
    const { verifier, challenge } = pkce();
    const page = await h.call(`/oauth/authorize?${authorizeQuery(challenge)}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const html = await page.text();
    expect(html).toContain('Sign in to Genesys Cloud (emulator)');
    expect(html).not.toMatch(/<script/i);
    const buttons = signInButtons(html);
    expect(buttons.map((b) => b.name)).toEqual(['Sign in as Ada Admin', 'Sign in as Vera Vendor']);
    const ada = buttons[0]!;
    expect(ada.text).toContain('Acme');
    expect(ada.text).toContain('ada@acme.example.com');
    expect(ada.action).toBe('/oauth/authorize');
    expect(ada.fields).toMatchObject({ client_id: vendor.id, redirect_uri: REDIRECT, state: 'st-123' });
    expect(ada.fields.user_id).toBe(adaId);

    const back = await signIn(authorizeQuery(challenge));
    expect(back.status).toBe(302);
    const location = new URL(back.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('state')).toBe('st-123');
    const code = location.searchParams.get('code') ?? '';
    expect(code).toMatch(/^[A-Za-z0-9_-]{20,}$/);

    const token = await exchange({ code, code_verifier: verifier }, { origin: ORIGIN });
    expect(token.status).toBe(200);
    expect(token.headers.get('cache-control')).toBe('no-store');
    expect(token.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const body = (await token.json()) as { access_token: string };
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 86_400 });

    const info = (await (await h.call('/api/v2/tokens/me', { token: body.access_token })).json()) as Json;
    expect(info).toMatchObject({
      organization: { id: acmeOrgId, name: 'Acme' },
      OAuthClient: {
        id: vendor.id,
        name: 'attribute-relay',
        authorizedGrantType: 'CODE',
        organization: { id: vendorOrgId },
      },
    });
    const me = (await (
      await h.call('/api/v2/users/me?expand=organization', { token: body.access_token })
    ).json()) as Json;
    expect(me).toMatchObject({ id: adaId, name: 'Ada Admin', organization: { id: acmeOrgId } });
  });

  it('refuses a wrong code_verifier, and the code is used up by the attempt', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFor(challenge);
    const wrong = await exchange({ code, code_verifier: pkce().verifier });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_grant' });
    const right = await exchange({ code, code_verifier: verifier });
    expect(await right.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('takes a code once', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFor(challenge);
    expect((await exchange({ code, code_verifier: verifier })).status).toBe(200);
    const again = await exchange({ code, code_verifier: verifier });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('lets a code expire after 60 s', async () => {
    const { verifier, challenge } = pkce();
    const fresh = await codeFor(challenge);
    const stale = await codeFor(challenge);
    h.clock.advance(59_999);
    expect((await exchange({ code: fresh, code_verifier: verifier })).status).toBe(200);
    h.clock.advance(1);
    const late = await exchange({ code: stale, code_verifier: verifier });
    expect(late.status).toBe(400);
    expect(await late.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('binds the code to its redirect URI and client', async () => {
    const { verifier, challenge } = pkce();
    const other = h.emu.createClient({
      orgId: vendorOrgId,
      authorizedGrantType: 'CODE',
      registeredRedirectUri: [REDIRECT],
    });
    const elsewhere = await exchange({
      code: await codeFor(challenge),
      code_verifier: verifier,
      redirect_uri: 'http://localhost:8080/other',
    });
    expect(await elsewhere.json()).toMatchObject({ error: 'invalid_grant' });
    const stolen = await exchange({
      code: await codeFor(challenge),
      code_verifier: verifier,
      client_id: other.id,
    });
    expect(await stolen.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('needs the client secret for a code issued without PKCE', async () => {
    expect((await exchange({ code: await codeFor() })).status).toBe(401);
    const withSecret = await exchange(
      { code: await codeFor() },
      { authorization: basic(vendor.id, vendor.secret) },
    );
    expect(withSecret.status).toBe(200);
  });

  it('ends the user’s token when its client is disabled', async () => {
    const { verifier, challenge } = pkce();
    const token = (await (
      await exchange({ code: await codeFor(challenge), code_verifier: verifier })
    ).json()) as {
      access_token: string;
    };
    const client = h.emu.createClient({ orgId: vendorOrgId, authorizedGrantType: 'CODE' });
    h.emu.setClientState(client.id, 'Disabled');
    expect((await h.call('/api/v2/users/me', { token: token.access_token })).status).toBe(200);
    h.emu.setClientState(vendor.id, 'Disabled');
    expect((await h.call('/api/v2/users/me', { token: token.access_token })).status).toBe(401);
    h.emu.setClientState(vendor.id, 'Active');
  });
});

describe('authorize refusals', () => {
  const { challenge } = pkce();

  it('never redirects for an unknown client, an unregistered redirect URI or a non-CODE client', async () => {
    const cc = h.emu.createClient({ orgId: vendorOrgId, registeredRedirectUri: [REDIRECT] });
    const refused: Record<string, string>[] = [
      { client_id: 'no-such-client' },
      { redirect_uri: 'https://evil.example/' },
      { redirect_uri: 'http://localhost:8080' },
      { client_id: cc.id },
    ];
    for (const extra of refused) {
      for (const method of ['GET', 'POST'] as const) {
        const query = authorizeQuery(challenge, extra);
        const res =
          method === 'GET'
            ? await h.call(`/oauth/authorize?${query}`, { redirect: 'manual' })
            : await h.call('/oauth/authorize', {
                method,
                headers: { 'content-type': 'application/x-www-form-urlencoded' },
                body: `${query}&user_id=${adaId}`,
                redirect: 'manual',
              });
        expect(res.status, `${method} ${JSON.stringify(extra)}`).toBe(400);
        expect(res.headers.get('location')).toBeNull();
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(await res.text()).toContain('Sign-in failed');
      }
    }
  });

  it('answers the app’s redirect URI with invalid_request for a plain or missing challenge method', async () => {
    for (const extra of [{ code_challenge_method: 'plain' }, { code_challenge_method: '' }]) {
      const res = await h.call(`/oauth/authorize?${authorizeQuery(challenge, extra)}`, {
        redirect: 'manual',
      });
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location') ?? '');
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('state')).toBe('st-123');
      expect(location.searchParams.get('code')).toBeNull();
    }
    const token = await h.call(`/oauth/authorize?${authorizeQuery(challenge, { response_type: 'token' })}`, {
      redirect: 'manual',
    });
    expect(new URL(token.headers.get('location') ?? '').searchParams.get('error')).toBe(
      'unsupported_response_type',
    );
  });
});

describe('CODE clients on the control surface', () => {
  it('refuses a redirect URI that is not an absolute http(s) URL', async () => {
    for (const uri of ['javascript:alert(1)', '/relative', 'not a url']) {
      const res = await h.call('/__emulator/clients', {
        method: 'POST',
        json: { orgId: vendorOrgId, authorizedGrantType: 'CODE', registeredRedirectUri: [uri] },
      });
      expect(res.status, uri).toBe(400);
      expect(await res.json()).toMatchObject({ message: expect.stringContaining('registeredRedirectUri') });
    }
  });
});

describe('CORS for browser apps', () => {
  it('answers preflights for the token endpoint and the API without logging them', async () => {
    h.emu.clearRequests();
    for (const path of ['/oauth/token', '/api/v2/users/me']) {
      const res = await h.call(path, {
        method: 'OPTIONS',
        headers: {
          origin: ORIGIN,
          'access-control-request-method': path === '/oauth/token' ? 'POST' : 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(res.headers.get('access-control-allow-methods')).toContain('GET');
      expect(res.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
      expect(res.headers.get('access-control-max-age')).toBe('600');
    }
    expect(h.emu.requests).toEqual([]);
  });

  it('lets the page read API answers, errors included', async () => {
    const res = await h.call('/api/v2/users/me', { headers: { origin: ORIGIN } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('vary')).toContain('Origin');
    const plain = await h.call('/api/v2/users/me');
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });
});
