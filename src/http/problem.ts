import type { Context } from 'hono';
import type { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { AppError, type ErrorCode, type FieldError } from '../lib/errors.js';

/**
 * The one mapper from the services' `AppError`s (`src/lib/errors.ts`) to RFC 9457
 * `application/problem+json`. `app.onError`, `app.notFound`, the 405 handler, the body checks and
 * the validation hook all end in `problemResponse`, so every error has the same shape:
 * `{type, title, status, detail, code, requestId, errors?}`.
 */

/**
 * nginx's "client closed request": the client went away before its request had arrived. No one
 * receives it; it is for the access log and metrics, so an abort is not counted as our failure.
 */
export const CLIENT_CLOSED_REQUEST = 499;

const STATUS: Record<ErrorCode, ContentfulStatusCode | typeof CLIENT_CLOSED_REQUEST> = {
  bad_request: 400,
  malformed_json: 400,
  json_too_deep: 400,
  unauthorized: 401,
  forbidden: 403,
  not_licensed: 403,
  tenant_unlicensed: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  headers_too_large: 431,
  client_aborted: CLIENT_CLOSED_REQUEST,
  genesys_unavailable: 502,
  service_unavailable: 503,
  provisioning_timeout: 504,
  internal: 500,
};

const TITLE: Record<ErrorCode, string> = {
  bad_request: 'Bad request',
  malformed_json: 'Malformed JSON',
  json_too_deep: 'JSON nested too deeply',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  not_licensed: 'Not licensed',
  tenant_unlicensed: 'Org not licensed',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  request_timeout: 'Request timeout',
  conflict: 'Conflict',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  validation_failed: 'Validation failed',
  headers_too_large: 'Request header fields too large',
  client_aborted: 'Client closed request',
  genesys_unavailable: 'Genesys Cloud unavailable',
  provisioning_timeout: 'Genesys Cloud took too long',
  service_unavailable: 'Service unavailable',
  internal: 'Internal server error',
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The HTTP status an error answers with. */
export function problemStatus(err: AppError): ContentfulStatusCode | typeof CLIENT_CLOSED_REQUEST {
  return STATUS[err.code];
}

/** `['when','all',1,'op']` → `when.all[1].op`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Every zod issue, each with its path, in the order zod found them. */
export function zodFieldErrors(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldError[] {
  return error.issues.map((issue) => ({
    path: formatPath([...prefix, ...issue.path]) || '$',
    message: issue.message,
  }));
}

export function problemBody(err: AppError, requestId: string | undefined) {
  return {
    type: `urn:attribute-relay:problem:${err.code}`,
    title: TITLE[err.code],
    status: problemStatus(err),
    detail: err.detail,
    code: err.code,
    ...(requestId ? { requestId } : {}),
    ...(err.extra.errors ? { errors: err.extra.errors } : {}),
  };
}

export function problemResponse(err: AppError, requestId: string | undefined): Response {
  return new Response(JSON.stringify(problemBody(err, requestId)), {
    status: problemStatus(err),
    headers: {
      'content-type': PROBLEM_CONTENT_TYPE,
      ...(requestId ? { 'x-request-id': requestId } : {}),
      ...err.extra.headers,
    },
  });
}

/** Hono's own exceptions (e.g. from its validators) as problems, keeping their status. */
export function fromHttpException(e: HTTPException): AppError {
  const byStatus: Partial<Record<number, ErrorCode>> = {
    400: 'bad_request',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not_found',
    413: 'payload_too_large',
    415: 'unsupported_media_type',
  };
  const code = byStatus[e.status];
  return code ? new AppError(code, e.message || TITLE[code]) : new AppError('internal', 'Unexpected error.');
}

export function requestIdOf(c: Context): string | undefined {
  return c.get('requestId' as never) as string | undefined;
}
