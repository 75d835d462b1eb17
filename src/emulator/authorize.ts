import type { Context, Hono } from 'hono';
import { S256_CHALLENGE } from './codes.js';
import type { EmuEnv, EmulatorCore } from './core.js';
import { type LoginChoice, loginErrorPage, loginPage } from './login-page.js';
import type { EmulatedClient } from './types.js';

/** The authorize parameters the sign-in form carries over from GET to POST. */
const CARRIED = [
  'response_type',
  'client_id',
  'redirect_uri',
  'code_challenge',
  'code_challenge_method',
  'state',
  'scope',
] as const;

type Params = Record<string, string>;
type Checked = { ok: true; client: EmulatedClient; redirectUri: string } | { ok: false; response: Response };

/**
 * The login host's authorization-code endpoint (RFC 6749 §4.1 with RFC 7636 PKCE, S256 only): a
 * sign-in page listing the emulator's users, and a POST that answers the app's redirect URI with a
 * one-time code. A request naming a bad client or redirect URI is never redirected (RFC 6749
 * §4.1.2.1): otherwise anyone could bounce users to a host of their choosing.
 */
export function registerAuthorize(app: Hono<EmuEnv>, core: EmulatorCore): void {
  app.get('/oauth/authorize', (c) => {
    const params = carried(new URLSearchParams(new URL(c.req.url).search));
    const checked = checkClient(core, params);
    if (!checked.ok) return checked.response;
    const refusal = protocolError(params);
    if (refusal) return errorRedirect(checked.redirectUri, params, ...refusal);
    return loginPage(checked.client.name, params, choices(core));
  });

  app.post('/oauth/authorize', (c) => {
    if (!isForm(c)) return loginErrorPage(400, 'The sign-in form must be sent as a form.');
    const form = new URLSearchParams(c.var.rawBody);
    const params = carried(form);
    const checked = checkClient(core, params);
    if (!checked.ok) return checked.response;
    const refusal = protocolError(params);
    if (refusal) return errorRedirect(checked.redirectUri, params, ...refusal);
    const user = core.identity.users.get(form.get('user_id') ?? '');
    if (!user) return loginErrorPage(400, 'That user does not exist (any more). Go back and choose another.');
    const code = core.codes.issue({
      clientId: checked.client.id,
      redirectUri: checked.redirectUri,
      userId: user.id,
      codeChallenge: params.code_challenge,
    });
    return redirect(checked.redirectUri, {
      code,
      ...(params.state !== undefined && { state: params.state }),
    });
  });
}

function carried(source: URLSearchParams): Params {
  const out: Params = {};
  for (const name of CARRIED) {
    const value = source.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}

function isForm(c: Context<EmuEnv>): boolean {
  const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/x-www-form-urlencoded';
}

/** Errors shown on our own page: the client must exist, be Active and CODE, and own the redirect URI. */
function checkClient(core: EmulatorCore, params: Params): Checked {
  const client = core.identity.clients.get(params.client_id ?? '');
  if (client?.state !== 'Active') {
    return { ok: false, response: loginErrorPage(400, 'Unknown or disabled OAuth client (client_id).') };
  }
  if (client.authorizedGrantType !== 'CODE') {
    const problem = `OAuth client ${client.name} does not have the Code Authorization grant type.`;
    return { ok: false, response: loginErrorPage(400, problem) };
  }
  const redirectUri = params.redirect_uri ?? '';
  if (!client.registeredRedirectUri.includes(redirectUri)) {
    const problem = `redirect_uri is not one of the registered redirect URIs of OAuth client ${client.name}.`;
    return { ok: false, response: loginErrorPage(400, problem) };
  }
  return { ok: true, client, redirectUri };
}

/** Errors the app hears about on its redirect URI, as RFC 6749 §4.1.2.1 `error` values. */
function protocolError(params: Params): [error: string, description: string] | undefined {
  if (params.response_type !== 'code') return ['unsupported_response_type', 'response_type must be code'];
  const challenge = params.code_challenge;
  const method = params.code_challenge_method;
  if (challenge === undefined) {
    // Without PKCE the code can only be exchanged with the client's secret (checked at the token endpoint).
    return method === undefined
      ? undefined
      : ['invalid_request', 'code_challenge_method without code_challenge'];
  }
  // An absent method means `plain` (RFC 7636 §4.3), which we refuse like any other.
  if (method !== 'S256') return ['invalid_request', 'code_challenge_method must be S256'];
  if (!S256_CHALLENGE.test(challenge)) return ['invalid_request', 'code_challenge is not an S256 challenge'];
  return undefined;
}

function errorRedirect(redirectUri: string, params: Params, error: string, description: string): Response {
  const query: Params = { error, error_description: description };
  if (params.state !== undefined) query.state = params.state;
  return redirect(redirectUri, query);
}

/** A 302 to the registered URI with `query` added to whatever query it already has. */
function redirect(redirectUri: string, query: Params): Response {
  const location = new URL(redirectUri);
  for (const [name, value] of Object.entries(query)) location.searchParams.set(name, value);
  return new Response(null, {
    status: 302,
    headers: { Location: location.href, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' },
  });
}

/** Every user of every org, by org name then user name, so the page reads the same on each load. */
function choices(core: EmulatorCore): LoginChoice[] {
  const orgName = (orgId: string) => core.identity.orgs.get(orgId)?.name ?? orgId;
  return [...core.identity.users.values()]
    .map((u) => ({ id: u.id, name: u.name, email: u.email, orgName: orgName(u.orgId) }))
    .sort((a, b) => a.orgName.localeCompare(b.orgName) || a.name.localeCompare(b.name));
}
