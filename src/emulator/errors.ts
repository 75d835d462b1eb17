import type { Context } from 'hono';
import type { EmuEnv } from './core.js';

/** Largest accepted request body (`request.bytes.max`, facts §5). */
export const MAX_REQUEST_BYTES = 512_000;

/**
 * Default code and message per status, from the Swagger's `x-inin-error-codes` (facts §5). 413's
 * code is not documented: `request.entity.too.large` is our guess; its message is the documented one.
 */
const DEFAULTS: Record<number, [string, string]> = {
  400: ['bad.request', 'The request could not be understood by the server due to malformed syntax.'],
  401: ['bad.credentials', 'Invalid login credentials.'],
  403: ['not.authorized', 'You are not authorized to perform the requested action.'],
  404: ['not.found', 'The requested resource was not found.'],
  405: ['method.not.allowed', 'The requested method is not allowed for this resource.'],
  408: ['request.timeout', 'The client did not produce a request within the server timeout limit.'],
  409: ['conflict', 'The request conflicts with the current state of the target resource.'],
  413: [
    'request.entity.too.large',
    `The request is over the size limit. Maximum bytes: ${MAX_REQUEST_BYTES}`,
  ],
  415: ['unsupported.media.type', 'Unsupported Media Type - Unsupported or incorrect media type.'],
  500: ['internal.server.error', 'The server encountered an unexpected condition.'],
  502: ['bad.gateway', 'Bad Gateway.'],
  503: ['service.unavailable', 'Service Unavailable - The server is currently unavailable.'],
  504: ['request.timeout', 'The request timed out.'],
};

export function defaultError(status: number): { code: string; message: string } {
  const [code, message] = DEFAULTS[status] ?? ['error', `HTTP ${status}`];
  return { code, message };
}

/** ErrorBody with the key order of the real responses; `contextId` is the correlation id. */
export function errorBody(status: number, code: string, message: string, contextId = ''): object {
  return { message, code, status, contextId, details: [], errors: [] };
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const h = new Headers({ 'Content-Type': 'application/json' });
  // set(), not an init object: a caller's header replaces ours whatever its letter case.
  for (const [name, value] of Object.entries(headers)) h.set(name, value);
  return new Response(JSON.stringify(body), { status, headers: h });
}

/** An ErrorBody response; code/message default to the standard ones for the status. */
export function apiError(c: Context<EmuEnv>, status: number, code?: string, message?: string): Response {
  const d = defaultError(status);
  return jsonResponse(status, errorBody(status, code ?? d.code, message ?? d.message, c.var.correlationId));
}

/** The normalized 429 (facts §5, official announcement of 2021-11-10). */
export function rateLimited(
  contextId: string,
  retryAfter: number,
  headers: Record<string, string> = {},
): Response {
  const message = `Rate limit exceeded the maximum. Retry the request in [${retryAfter}] seconds`;
  const body = errorBody(429, 'too.many.requests.retry.after', message, contextId);
  return jsonResponse(429, body, { 'Retry-After': String(retryAfter), ...headers });
}

export function missingPermissions(c: Context<EmuEnv>, permission: string): Response {
  const message = `Unable to perform the requested action. You are missing the following permission(s): [${permission}]`;
  return apiError(c, 403, 'missing.permissions', message);
}

export function missingAnyPermissions(c: Context<EmuEnv>, permissions: string[]): Response {
  const message = `Unable to perform the requested action. You must have at least one of the following permissions assigned: [${permissions.join(', ')}]`;
  return apiError(c, 403, 'missing.any.permissions', message);
}

/** OAuth error body of the login host (observed shape, facts §2). */
export function oauthError(status: number, error: string, description: string): Response {
  return jsonResponse(
    status,
    { error, description, error_description: description },
    { 'Cache-Control': 'no-store' },
  );
}

export const INVALID_CLIENT = (): Response => oauthError(401, 'invalid_client', 'authentication failed');
