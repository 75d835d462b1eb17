import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { s256, VERIFIER } from './codes.js';
import type { EmuEnv, EmulatorCore } from './core.js';
import { INVALID_CLIENT, jsonResponse, oauthError } from './errors.js';
import { decodeBasic } from './pipeline.js';
import type { TokenRecord } from './tokens.js';
import type { EmulatedClient } from './types.js';

/** The login host's token endpoint: client credentials (facts §2) and authorization codes (with PKCE). */
export function registerOAuth(app: Hono<EmuEnv>, core: EmulatorCore): void {
  app.post('/oauth/token', (c) => {
    const form = isForm(c) ? new URLSearchParams(c.var.rawBody) : undefined;
    if (form?.get('grant_type') === 'authorization_code') return exchangeCode(c, core, form);
    return clientCredentials(c, core);
  });
}

function isForm(c: Context<EmuEnv>): boolean {
  const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/x-www-form-urlencoded';
}

function clientCredentials(c: Context<EmuEnv>, core: EmulatorCore): Response {
  const client = authenticate(core, c.req.header('authorization'), 'CLIENT-CREDENTIALS');
  // Unknown, wrong secret, Disabled/Inactive, or not a client-credentials client: all the same 401.
  if (!client) return INVALID_CLIENT();
  if (c.var.rawBody.trim() === '') return oauthError(400, 'invalid_request', 'missing grant_type');
  if (!isForm(c)) {
    return oauthError(400, 'invalid_request', 'content type must be application/x-www-form-urlencoded');
  }
  if (new URLSearchParams(c.var.rawBody).get('grant_type') !== 'client_credentials') {
    return oauthError(400, 'unsupported_grant_type', 'unsupported grant type');
  }
  const lifetime = core.options.tokenLifetimeSeconds ?? client.accessTokenValiditySeconds;
  return tokenResponse(core.identity.issueClientToken(client, lifetime), lifetime);
}

/**
 * RFC 6749 §4.1.3 + RFC 7636 §4.6. A PKCE client sends `client_id` and `code_verifier` and no
 * secret (it runs in a browser); a code issued without a challenge needs the client's secret.
 */
function exchangeCode(c: Context<EmuEnv>, core: EmulatorCore, form: URLSearchParams): Response {
  const header = c.req.header('authorization');
  const client = header
    ? authenticate(core, header, 'CODE')
    : activeClient(core, form.get('client_id') ?? '', 'CODE');
  if (!client) return INVALID_CLIENT();
  const grant = core.codes.take(form.get('code') ?? '');
  const invalid = (why: string) => oauthError(400, 'invalid_grant', why);
  if (!grant || grant.clientId !== client.id)
    return invalid('authorization code is invalid, used or expired');
  if (grant.redirectUri !== form.get('redirect_uri')) return invalid('redirect_uri does not match');
  if (!core.identity.users.has(grant.userId)) return invalid('the user no longer exists');
  const verifier = form.get('code_verifier');
  if (grant.codeChallenge === undefined) {
    if (!header) return INVALID_CLIENT();
  } else if (
    verifier === null ||
    !VERIFIER.test(verifier) ||
    !sameSecret(grant.codeChallenge, s256(verifier))
  ) {
    return invalid('code_verifier does not match the code_challenge');
  }
  const lifetime = core.options.tokenLifetimeSeconds ?? client.accessTokenValiditySeconds;
  const app = { id: client.id, name: client.name, orgId: client.orgId, authorizedGrantType: 'CODE' };
  return tokenResponse(core.identity.issueUserToken(grant.userId, lifetime, app, [], client.id), lifetime);
}

function tokenResponse(rec: TokenRecord, lifetime: number): Response {
  const body = { access_token: rec.token, token_type: 'bearer', expires_in: lifetime };
  return jsonResponse(200, body, { 'Cache-Control': 'no-store' });
}

function activeClient(core: EmulatorCore, id: string, grantType: string): EmulatedClient | undefined {
  const client = core.identity.clients.get(id);
  return client?.state === 'Active' && client.authorizedGrantType === grantType ? client : undefined;
}

function authenticate(
  core: EmulatorCore,
  header: string | undefined,
  grantType: string,
): EmulatedClient | undefined {
  const match = /^Basic\s+(\S+)\s*$/i.exec(header ?? '');
  const creds = match?.[1] ? decodeBasic(match[1]) : undefined;
  const client = creds ? activeClient(core, creds.id, grantType) : undefined;
  return creds && client && sameSecret(client.secret, creds.secret) ? client : undefined;
}

/** Constant-time comparison (hashing first makes the lengths equal). */
function sameSecret(expected: string, given: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(given));
}
