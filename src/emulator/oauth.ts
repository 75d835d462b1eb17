import { createHash, timingSafeEqual } from 'node:crypto';
import type { Hono } from 'hono';
import type { EmuEnv, EmulatorCore } from './core.js';
import { INVALID_CLIENT, jsonResponse, oauthError } from './errors.js';
import { decodeBasic } from './pipeline.js';
import type { EmulatedClient } from './types.js';

/** The login host's client-credentials grant (facts §2). */
export function registerOAuth(app: Hono<EmuEnv>, core: EmulatorCore): void {
  app.post('/oauth/token', (c) => {
    const client = authenticate(core, c.req.header('authorization'));
    // Unknown, wrong secret, Disabled/Inactive, or not a client-credentials client: all the same 401.
    if (!client) return INVALID_CLIENT();
    const raw = c.var.rawBody;
    if (raw.trim() === '') return oauthError(400, 'invalid_request', 'missing grant_type');
    const contentType = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/x-www-form-urlencoded') {
      return oauthError(400, 'invalid_request', 'content type must be application/x-www-form-urlencoded');
    }
    if (new URLSearchParams(raw).get('grant_type') !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', 'unsupported grant type');
    }
    const lifetime = core.options.tokenLifetimeSeconds ?? client.accessTokenValiditySeconds;
    const rec = core.identity.issueClientToken(client, lifetime);
    const body = { access_token: rec.token, token_type: 'bearer', expires_in: lifetime };
    return jsonResponse(200, body, { 'Cache-Control': 'no-store' });
  });
}

function authenticate(core: EmulatorCore, header: string | undefined): EmulatedClient | undefined {
  const match = /^Basic\s+(\S+)\s*$/i.exec(header ?? '');
  const creds = match?.[1] ? decodeBasic(match[1]) : undefined;
  const client = creds ? core.identity.clients.get(creds.id) : undefined;
  if (!creds || !client || !sameSecret(client.secret, creds.secret)) return undefined;
  if (client.state !== 'Active' || client.authorizedGrantType !== 'CLIENT-CREDENTIALS') return undefined;
  return client;
}

/** Constant-time comparison (hashing first makes the lengths equal). */
function sameSecret(expected: string, given: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(given));
}
