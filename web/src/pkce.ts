import { ApiError, fetchOrProblem, readJson } from './api.js';
import { t } from './i18n.js';
import type { EnvironmentInfo, UiConfig } from './types.js';

/**
 * The OAuth authorization-code login with PKCE (S256), as Genesys Cloud's SDKs do it. What must
 * survive the round trip (verifier, state, environment, language, the page's own query and hash
 * route) goes to sessionStorage; tokens never do, and the code is stripped from the URL at once.
 */
const PENDING = 'relay.login';

interface Pending {
  verifier: string;
  state: string;
  environment: string;
  langTag: string | undefined;
  /** The page's query (gcHostOrigin…) and hash route, restored after the round trip. */
  search: string;
  hash: string;
}

export async function startLogin(
  cfg: UiConfig,
  env: EnvironmentInfo,
  langTag: string | undefined,
): Promise<void> {
  const verifier = randomString(48);
  const state = randomString(24);
  const pending: Pending = {
    verifier,
    state,
    environment: env.environment,
    langTag,
    search: location.search,
    hash: location.hash,
  };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: cfg.oauthClientId ?? '',
    redirect_uri: cfg.redirectUri,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
    state,
  });
  location.assign(`${env.loginUrl}/oauth/authorize?${q}`);
}

export function isLoginReturn(): boolean {
  const q = new URLSearchParams(location.search);
  return q.has('state') && (q.has('code') || q.has('error'));
}

export interface LoginResult {
  accessToken: string;
  environment: string;
  langTag: string | undefined;
}

/** Back from the login: check state, strip the code from the URL, trade the code for a token. */
export async function finishLogin(cfg: UiConfig): Promise<LoginResult> {
  const q = new URLSearchParams(location.search);
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  const pending = raw ? (JSON.parse(raw) as Pending) : undefined;
  // No code or state may stay in the address bar, history, or a Referer: restore the page's own URL.
  history.replaceState(null, '', `/${pending?.search ?? ''}${pending?.hash ?? ''}`);
  if (q.has('error'))
    throw loginError(t('login.refused', { reason: q.get('error_description') ?? q.get('error') ?? '' }));
  if (!pending || pending.state !== q.get('state')) throw loginError(t('login.state'));
  const env = cfg.environments.find((e) => e.environment === pending.environment);
  if (!env) throw loginError(t('login.environment', { env: pending.environment }));
  const res = await fetchOrProblem(`${env.loginUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: q.get('code') ?? '',
      redirect_uri: cfg.redirectUri,
      client_id: cfg.oauthClientId ?? '',
      code_verifier: pending.verifier,
    }),
  });
  const token = await readJson<{ access_token: string }>(res);
  return { accessToken: token.access_token, environment: env.environment, langTag: pending.langTag };
}

function loginError(detail: string): ApiError {
  return new ApiError({ status: 0, title: t('login.failed'), detail, code: 'login' });
}

function randomString(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
