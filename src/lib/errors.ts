/**
 * The errors services throw. Each names what went wrong by `code`; what a code means on the wire
 * (its status and title, the RFC 9457 body) is `src/http/problem.ts`'s business, not the
 * verbs'. Services throw `AppError`s; the HTTP layer maps every one of them to a problem.
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

export interface FieldError {
  /** Where in the input: `when.all[1].op`, or a header / query parameter name. */
  path: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, { cause: extra.cause });
    this.name = 'AppError';
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
