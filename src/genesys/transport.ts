import { Agent, type Dispatcher, errors, request } from 'undici';
import type { Clock } from '../lib/clock.js';
import { classifyError, type Failure, failure, type Outcome } from './outcome.js';

export interface Timeouts {
  /** TCP + TLS connect. */
  readonly connectMs: number;
  /** Until the response headers arrive. */
  readonly headersMs: number;
  /** Between body chunks. */
  readonly bodyMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 5_000, headersMs: 15_000, bodyMs: 15_000 };

/**
 * Our own dispatcher, never the global one: with undici from npm and Node's bundled copy on
 * different majors, a global dispatcher is silently ignored by one of them (undici #5036).
 */
export function createAgent(t: Timeouts = DEFAULT_TIMEOUTS): Agent {
  return new Agent({
    connect: { timeout: t.connectMs },
    headersTimeout: t.headersMs,
    bodyTimeout: t.bodyMs,
    keepAliveTimeout: 30_000,
    connections: 64,
  });
}

export interface HttpCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/**
 * Sends one request and always reads the body to its end (an unread body holds its connection).
 * Network errors come back as a `retryable` failure, never as a throw.
 */
export async function send(dispatcher: Dispatcher, call: HttpCall): Promise<RawResponse | Failure> {
  try {
    const res = await request(call.url, {
      method: call.method,
      headers: call.headers,
      body: call.body,
      dispatcher,
    });
    const text = await res.body.text();
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    return { status: res.statusCode, headers, text };
  } catch (err) {
    return networkFailure(err);
  }
}

function networkFailure(err: unknown): Failure {
  if (err instanceof errors.ConnectTimeoutError)
    return failure('retryable', 'network.connect_timeout', 'connect timed out');
  if (err instanceof errors.HeadersTimeoutError)
    return failure('retryable', 'network.timeout', 'no response in time');
  if (err instanceof errors.BodyTimeoutError)
    return failure('retryable', 'network.timeout', 'response body stalled');
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  return failure('retryable', typeof code === 'string' ? `network.${code}` : 'network.error', message);
}

export function isFailure(r: RawResponse | Failure): r is Failure {
  return 'kind' in r;
}

/** A 2xx response → `ok` with `parse(text)`; anything else classified. */
export function toOutcome<T>(r: RawResponse | Failure, clock: Clock, parse: (text: string) => T): Outcome<T> {
  if (isFailure(r)) return r;
  const correlationId = r.headers.get('inin-correlation-id') ?? undefined;
  if (r.status < 200 || r.status > 299) return classifyError(r.status, r.headers, r.text, clock.now());
  try {
    return { kind: 'ok', status: r.status, value: parse(r.text), correlationId };
  } catch {
    // A 2xx we cannot read: treat like a transient fault rather than pretending it worked.
    return failure('retryable', 'invalid.response', 'unreadable response body', {
      status: r.status,
      correlationId,
    });
  }
}
