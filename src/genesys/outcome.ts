/**
 * What a Genesys call came to, classified once here so callers switch on `kind` instead of reading
 * statuses. Every outcome keeps the `ININ-Correlation-Id` (for support cases and the audit).
 */
export type Outcome<T> = Ok<T> | Failure;

export interface Ok<T> {
  readonly kind: 'ok';
  readonly status: number;
  readonly value: T;
  readonly correlationId: string | undefined;
}

export type FailureKind =
  /** 429: wait `retryAfterMs`; does not count as a failed attempt. */
  | 'rate_limited'
  /** 401 (after one token refresh and retry), or the grant itself refused (`code: invalid_client`). */
  | 'unauthorized'
  | 'not_found'
  | 'conflict'
  /** 5xx, 408, timeouts, connection errors: worth retrying later. */
  | 'retryable'
  /** Any other 4xx, or a request we refused to send (unknown environment, unsafe id). */
  | 'permanent';

export interface Failure {
  readonly kind: FailureKind;
  /** HTTP status; undefined when no response came back (network) or nothing was sent. */
  readonly status: number | undefined;
  /** Genesys' error code (`bad.credentials`, `invalid_client`, `not.found`, …) or ours (`network.timeout`). */
  readonly code: string;
  readonly message: string;
  readonly correlationId: string | undefined;
  /** Only for `rate_limited`. */
  readonly retryAfterMs?: number;
}

export function failure(
  kind: FailureKind,
  code: string,
  message: string,
  extra: { status?: number; correlationId?: string; retryAfterMs?: number } = {},
): Failure {
  return {
    kind,
    status: extra.status,
    code,
    message,
    correlationId: extra.correlationId,
    ...(extra.retryAfterMs !== undefined ? { retryAfterMs: extra.retryAfterMs } : {}),
  };
}

/** Genesys' `ErrorBody` fields we use (shared/genesys §5). */
interface ErrorBody {
  message?: unknown;
  code?: unknown;
  contextId?: unknown;
  error?: unknown; // the OAuth endpoint's `{error, error_description}`
  error_description?: unknown;
}

/** Classifies a non-2xx response. */
export function classifyError(status: number, headers: Headers, text: string, now: number): Failure {
  const body = parseObject(text) as ErrorBody;
  const correlationId = headers.get('inin-correlation-id') ?? stringOr(body.contextId, undefined);
  const code = stringOr(body.code, undefined) ?? stringOr(body.error, undefined) ?? `http.${status}`;
  const message =
    stringOr(body.message, undefined) ?? stringOr(body.error_description, undefined) ?? `HTTP ${status}`;
  const extra = { status, correlationId };
  // The token endpoint's bad-client answer: treat as bad credentials whatever its status (400 or 401).
  if (code === 'invalid_client') return failure('unauthorized', code, message, extra);
  if (status === 429) {
    return failure('rate_limited', code, message, { ...extra, retryAfterMs: retryAfterMs(headers, now) });
  }
  if (status === 401) return failure('unauthorized', code, message, extra);
  if (status === 404) return failure('not_found', code, message, extra);
  if (status === 409) return failure('conflict', code, message, extra);
  if (status === 408 || status >= 500) return failure('retryable', code, message, extra);
  return failure('permanent', code, message, extra);
}

const DEFAULT_RETRY_AFTER_MS = 60_000;

/**
 * `Retry-After` in seconds or as an HTTP date; else `inin-ratelimit-reset` (seconds until the
 * window resets); else a minute. Never less than one second.
 */
export function retryAfterMs(headers: Headers, now: number): number {
  const raw = headers.get('retry-after') ?? headers.get('inin-ratelimit-reset');
  if (raw === null) return DEFAULT_RETRY_AFTER_MS;
  const seconds = Number(raw.trim());
  if (Number.isFinite(seconds) && raw.trim() !== '') return Math.max(1_000, Math.ceil(seconds * 1000));
  const date = Date.parse(raw);
  if (!Number.isNaN(date)) return Math.max(1_000, date - now);
  return DEFAULT_RETRY_AFTER_MS;
}

export function parseObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function stringOr<T>(v: unknown, fallback: T): string | T {
  return typeof v === 'string' && v !== '' ? v : fallback;
}
