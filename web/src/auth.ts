import { readJson } from './api.js';
import type { Session } from './types.js';

/**
 * Who is signed in. Our own session (a 1 h JWT) may sit in sessionStorage so a reload keeps it;
 * the Genesys user token stays in memory only (install and uninstall need it), and localStorage
 * holds nothing but the chosen environment.
 */
const SESSION = 'relay.session';
const ENVIRONMENT = 'relay.environment';

export interface Signed {
  session: Session;
  environment: string;
}

let genesysToken: string | null = null;

export const userToken = (): string | null => genesysToken;
export const setUserToken = (token: string | null): void => {
  genesysToken = token;
};

export function storedSession(): Signed | null {
  const raw = sessionStorage.getItem(SESSION);
  if (!raw) return null;
  const s = JSON.parse(raw) as Signed;
  return Date.parse(s.session.expiresAt) > Date.now() ? s : null;
}

export function storeSession(s: Signed | null): void {
  if (s) sessionStorage.setItem(SESSION, JSON.stringify(s));
  else sessionStorage.removeItem(SESSION);
}

export const rememberedEnvironment = (): string | null => localStorage.getItem(ENVIRONMENT);
export const rememberEnvironment = (env: string): void => localStorage.setItem(ENVIRONMENT, env);

/** POST /v1/session with the Genesys user token: our session (404: the org is not installed). */
export async function openSession(environment: string, token: string): Promise<Session> {
  const res = await fetch('/v1/session', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ environment }),
  });
  return readJson<Session>(res);
}
