import type { MiddlewareHandler } from 'hono';
import type { EmuEnv } from './core.js';

const ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ALLOW_HEADERS = 'authorization, content-type';
/** What a browser app may read from our answers: the correlation id and the rate-limit signals. */
const EXPOSE_HEADERS =
  'ININ-Correlation-Id, inin-ratelimit-count, inin-ratelimit-allowed, inin-ratelimit-reset, Retry-After';

const isBrowserPath = (path: string): boolean => path === '/oauth/token' || path.startsWith('/api/v2/');

/**
 * Genesys lets browser apps (implicit and PKCE clients) call the login host's token endpoint and
 * the API directly. Preflights are answered here, before the request log, latency, faults and
 * auth, as a CDN in front of the real thing would: they carry no token and are no API call.
 */
export function cors(): MiddlewareHandler<EmuEnv> {
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (!origin || !isBrowserPath(c.req.path)) return next();
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      return new Response(null, {
        status: 204,
        headers: {
          'Access-Control-Allow-Origin': origin,
          'Access-Control-Allow-Methods': ALLOW_METHODS,
          'Access-Control-Allow-Headers': ALLOW_HEADERS,
          'Access-Control-Max-Age': '600',
          Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
        },
      });
    }
    await next();
    c.res.headers.set('Access-Control-Allow-Origin', origin);
    c.res.headers.set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    c.res.headers.append('Vary', 'Origin');
  };
}
