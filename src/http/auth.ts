import type { Context } from 'hono';
import { AppError } from '../lib/errors.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The bearer token of the request, or a 401 that says how to authenticate. */
export function bearerToken(c: Context, what: string): string {
  const m = BEARER.exec(c.req.header('authorization') ?? '');
  if (!m?.[1]) {
    throw new AppError('unauthorized', `Send ${what} as "Authorization: Bearer <token>".`, {
      headers: { 'www-authenticate': 'Bearer' },
    });
  }
  return m[1];
}
