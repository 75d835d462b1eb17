import type { Config } from '../config.js';
import { APPS_ORIGINS } from '../genesys/client-app-env.js';
import { uiConfig } from './config-route.js';

/**
 * Security headers of the UI's pages. The page handles Genesys user tokens, so: no inline script,
 * network only to ourselves and the Genesys login/API hosts, and framed only by Genesys Cloud's
 * apps origins (plus the emulator's origin in demo mode, where it plays Genesys).
 */
export function uiHeaders(config: Config, opts: { docs?: boolean } = {}): Record<string, string> {
  const envs = uiConfig(config).environments;
  const connect = unique(['self', ...envs.flatMap((e) => [origin(e.loginUrl), origin(e.apiUrl)])]);
  const ancestors = unique([
    'self',
    ...APPS_ORIGINS,
    ...(config.genesys.baseUrl ? [origin(config.genesys.baseUrl)] : []),
  ]);
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    // Stencil (spark) and redoc (styled-components) write <style> elements at run time.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src ${connect.map(quoteSelf).join(' ')}`,
    // redoc runs its search index in a worker it builds from a blob.
    ...(opts.docs ? ["worker-src 'self' blob:"] : []),
    `frame-ancestors ${ancestors.map(quoteSelf).join(' ')}`,
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
  return {
    'content-security-policy': csp,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  };
}

const origin = (url: string): string => new URL(url).origin;
const unique = (xs: string[]): string[] => [...new Set(xs)];
const quoteSelf = (s: string): string => (s === 'self' ? "'self'" : s);
