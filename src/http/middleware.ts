import type { HttpBindings } from '@hono/node-server';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError, clientAborted, jsonTooDeep } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../lib/json-depth.js';
import type { Logger } from '../lib/logger.js';
import { CLIENT_CLOSED_REQUEST } from './problem.js';

/** The Hono variables this layer sets. The app's own env adds to them (`src/sessions/require-session.ts`). */
export type HttpEnv = { Variables: { requestId: string } };

/** What the access log records to: the latency histogram (`src/ops/metrics.ts` provides it). */
export interface HttpMetrics {
  readonly httpRequestDuration: {
    observe(labels: { method: string; route: string; status: string }, seconds: number): void;
  };
}

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a sane incoming `x-request-id` (a proxy's), or makes one; echoed on every response. */
export function requestId(): MiddlewareHandler<HttpEnv> {
  return async function requestId(c, next) {
    const incoming = c.req.header('x-request-id');
    const id = incoming && INCOMING_ID.test(incoming) ? incoming : newId('req');
    c.set('requestId', id);
    // Before next(): a header added after the response exists makes Hono rebuild it, which costs
    // node-server's fast path (measured: 79k → 16k requests/s on the bare app).
    c.header('x-request-id', id);
    await next();
  };
}

/** Where sources post their events. */
const HOOKS = '/v1/hooks/';

/**
 * One JSON line per request, and the latency histogram. Only the method, the path (never the
 * query, which could carry a token), the status and the duration: no header or body is logged.
 */
export function accessLog(logger: Logger, metrics: HttpMetrics): MiddlewareHandler<HttpEnv> {
  return async function accessLog(c, next) {
    const started = performance.now();
    await next();
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    const status = c.res.status;
    // The route pattern, not the raw path, keeps the metric's label set bounded.
    const route = c.res.status === 404 && !c.req.routePath.includes(':') ? 'unmatched' : c.req.routePath;
    metrics.httpRequestDuration.observe(
      { method: c.req.method, route, status: String(status) },
      durationMs / 1000,
    );
    // An accepted event is at debug: at thousands a second its lines were most of the log (and
    // 12 % of ingest's CPU, with their writes), and its audit row already records it. Everything
    // else, and every refused event, stays at info. An abort is the client's doing, not an error
    // of ours: named, at info, once.
    const level = status < 300 && c.req.method === 'POST' && c.req.path.startsWith(HOOKS) ? 'debug' : 'info';
    logger[level](status === CLIENT_CLOSED_REQUEST ? 'client_aborted' : 'request', {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status,
      durationMs,
    });
  };
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * For routes that take a JSON body: 415 unless `Content-Type` is JSON (Hono's validator would
 * silently skip the body otherwise), 413 past `maxBytes` while reading (a huge body is never
 * buffered whole), 400 when it nests deeper than 64 levels (checked before parsing, so nothing
 * after it meets hostile depth) or does not parse, 499 when the client went away mid-body. The
 * body is then cached for the validator.
 */
export function jsonBody(maxBytes: number): MiddlewareHandler<HttpEnv> {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      // bodyLimit has opened the body's web stream, so the unread rest is not drained: node-server
      // cuts the socket 500 ms later, under the client's next request on it. Close it with this.
      throw new AppError('payload_too_large', `The request body is larger than ${maxBytes} bytes.`, {
        headers: { connection: 'close' },
      });
    },
  });
  return async function jsonBody(c, next) {
    const type = c.req.header('content-type') ?? '';
    if (!JSON_TYPE.test(type)) {
      throw new AppError(
        'unsupported_media_type',
        'Send the body as JSON with Content-Type: application/json.',
      );
    }
    let text = '';
    try {
      await limit(c, async () => {
        text = await c.req.text();
      });
    } catch (err) {
      if (err instanceof AppError || !bodyCutOff(c)) throw err;
      throw clientAborted();
    }
    // A body stream that closes early can also read as short text instead of failing.
    if (bodyCutOff(c)) throw clientAborted();
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) throw jsonTooDeep(MAX_JSON_DEPTH);
    try {
      JSON.parse(text);
    } catch {
      throw new AppError('malformed_json', 'The request body is not valid JSON.');
    }
    await next();
  };
}

/** On node:http, whether the request ended before all of its body arrived (the client went away). */
function bodyCutOff(c: Context): boolean {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  return incoming !== undefined && !incoming.complete;
}
