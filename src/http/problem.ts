import type { Context } from 'hono';
import type { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

/**
 * One error hierarchy and one mapper to RFC 9457 `application/problem+json`. Services throw
 * `AppError`s; `app.onError`, `app.notFound`, the 405 handler, the body checks and the validation
 * hook all end in `problemResponse`, so every error has the same shape:
 * `{type, title, status, detail, code, requestId, errors?}`.
 */

export type ErrorCode =
  | 'bad_request'
  | 'malformed_json'
  | 'json_too_deep'
  | 'unauthorized'
  | 'forbidden'
  | 'not_licensed'
  | 'tenant_unlicensed'
  | 'not_found'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'validation_failed'
  | 'headers_too_large'
  | 'client_aborted'
  | 'genesys_unavailable'
  | 'provisioning_timeout'
  | 'service_unavailable'
  | 'internal';

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

export interface FieldError {
  /** Where in the input: `when.all[1].op`, or a header / query parameter name. */
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: ContentfulStatusCode | typeof CLIENT_CLOSED_REQUEST;
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, { cause: extra.cause });
    this.name = 'AppError';
    this.status = STATUS[code];
  }
}

export const notFound = (detail: string) => new AppError('not_found', detail);
export const badRequest = (detail: string) => new AppError('bad_request', detail);
export const unauthorized = (detail: string) => new AppError('unauthorized', detail);
export const forbidden = (detail: string) => new AppError('forbidden', detail);
export const conflict = (detail: string) => new AppError('conflict', detail);
export const jsonTooDeep = (max: number) =>
  new AppError('json_too_deep', `The JSON nests deeper than ${max} levels (arrays and objects).`);
export const clientAborted = () =>
  new AppError('client_aborted', 'The client closed the connection before the request body arrived.');
export const validationFailed = (errors: FieldError[], detail = 'The request does not validate.') =>
  new AppError('validation_failed', detail, { errors });

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
    status: err.status,
    detail: err.detail,
    code: err.code,
    ...(requestId ? { requestId } : {}),
    ...(err.extra.errors ? { errors: err.extra.errors } : {}),
  };
}

export function problemResponse(err: AppError, requestId: string | undefined): Response {
  return new Response(JSON.stringify(problemBody(err, requestId)), {
    status: err.status,
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
