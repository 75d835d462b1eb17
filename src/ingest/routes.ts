import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { json, problems } from '../http/openapi.js';
import type { Clock } from '../lib/clock.js';
import { AppError, clientAborted, jsonTooDeep, notFound, unauthorized } from '../lib/errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../lib/json-depth.js';
import type { Metrics } from '../ops/metrics.js';
import type { AppEnv } from '../sessions/require-session.js';
import { bearerMatches } from './bearer.js';
import { type IngestSource, SourceCache } from './source-cache.js';
import { verify } from './standard-webhooks.js';
import type { EventStore } from './store.js';

/** The largest event body accepted. */
export const MAX_EVENT_BYTES = 256 * 1024;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const KEPT_HEADERS = ['webhook-id', 'webhook-timestamp', 'idempotency-key', 'user-agent', 'content-type'];

type Reason =
  | 'unknown_source'
  | 'unsupported_media_type'
  | 'too_large'
  | 'missing_headers'
  | 'stale_timestamp'
  | 'bad_signature'
  | 'bad_token'
  | 'bad_idempotency_key'
  | 'malformed_json'
  | 'json_too_deep'
  | 'not_object'
  | 'aborted'
  | 'tenant_unlicensed';

class Refused extends AppError {
  constructor(
    readonly reason: Reason,
    err: AppError,
  ) {
    super(err.code, err.detail, err.extra);
  }
}

const Accepted = z.object({ eventId: z.string(), duplicate: z.boolean() }).openapi('Accepted');

const route = createRoute({
  method: 'post',
  path: '/v1/hooks/{sourceId}',
  tags: ['ingest'],
  summary: 'Send an event (authenticated by the source’s own secret)',
  description:
    'standard-webhooks sources: `webhook-id`, `webhook-timestamp`, `webhook-signature` per the Standard Webhooks specification. bearer sources: `Authorization: Bearer <token>` and an optional `Idempotency-Key`. Body: a JSON object of at most 256 KiB, nested at most 64 levels (deeper: 400 `json_too_deep`). 202 only once the event is stored.',
  request: {
    params: z.object({ sourceId: z.string().openapi({ param: { name: 'sourceId', in: 'path' } }) }),
    body: { required: true, content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } },
  },
  responses: {
    202: json(Accepted, 'Stored (or a repeat of a stored event)'),
    ...problems(400, 401, 404, 413, 415),
  },
});

/**
 * POST /v1/hooks/{sourceId}. Checks run cheapest first and nothing is stored until all pass: an
 * unknown source, a wrong type, an oversized body, a bad signature or token, or a body that is
 * not a JSON object leave no row anywhere (they are counted in `/metrics` instead).
 */
export function registerIngestRoute(
  app: OpenAPIHono<AppEnv>,
  deps: {
    sourceCache: SourceCache;
    events: EventStore;
    clock: Clock;
    metrics: Metrics;
    /** Orgs whose product is gone: their events are refused (after the sender is verified). */
    isUnlicensed?: (orgId: string) => boolean;
  },
): void {
  // Documented from the route definition, but served by a plain handler: a declared JSON body
  // would make the validator parse it (unbounded, before the signature is checked).
  app.openAPIRegistry.registerPath(route);
  app.post(route.path.replace('{sourceId}', ':sourceId'), async (c) => {
    try {
      return c.json(await ingest(c, deps), 202);
    } catch (err) {
      if (err instanceof Refused) deps.metrics.ingestRefused.inc({ reason: err.reason });
      throw err;
    }
  });
}

async function ingest(c: Context<AppEnv>, deps: Parameters<typeof registerIngestRoute>[1]) {
  const sourceId = c.req.param('sourceId') ?? '';
  const source = await deps.sourceCache.get(sourceId);
  if (!source) throw new Refused('unknown_source', notFound(`No source ${sourceId}.`));
  if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) {
    throw new Refused(
      'unsupported_media_type',
      new AppError('unsupported_media_type', 'Send the event as JSON with Content-Type: application/json.'),
    );
  }
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  const raw = incoming
    ? await readIncoming(incoming, MAX_EVENT_BYTES)
    : await readLimited(c.req.raw, MAX_EVENT_BYTES);
  const now = deps.clock.now();
  const dedupKey = await authenticateFresh(c, deps.sourceCache, source, raw, now);
  if (deps.isUnlicensed?.(source.orgId)) {
    throw new Refused(
      'tenant_unlicensed',
      new AppError(
        'tenant_unlicensed',
        'This org no longer holds attribute-relay in Genesys Cloud: events are not accepted.',
      ),
    );
  }
  const body = new TextDecoder().decode(raw);
  // Before parsing: what is stored must be showable, and showing or matching it walks its depth.
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) throw new Refused('json_too_deep', jsonTooDeep(MAX_JSON_DEPTH));
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Refused('malformed_json', new AppError('malformed_json', 'The body is not valid JSON.'));
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Refused('not_object', new AppError('bad_request', 'The body must be a JSON object.'));
  }
  const headers: Record<string, string> = {};
  for (const h of KEPT_HEADERS) {
    const v = c.req.header(h);
    if (v !== undefined) headers[h] = v.slice(0, 512);
  }
  const result = await deps.events.accept({
    orgId: source.orgId,
    sourceId,
    receivedAt: now,
    dedupKey,
    body,
    headers,
  });
  if ('sourceGone' in result) throw new Refused('unknown_source', notFound(`No source ${sourceId}.`));
  deps.metrics.ingestEvents.inc({ outcome: result.duplicate ? 'duplicate' : 'accepted' });
  return result;
}

/** A failed check that a secret rotated on another instance would explain. */
const SECRET_FAILURES: ReadonlySet<string> = new Set(['bad_signature', 'bad_token']);

/**
 * `authenticate`, and once more with the source read again when the secret did not match and the
 * cached copy is over a second old: a rotation on another instance counts within a second.
 */
async function authenticateFresh(
  c: Context,
  cache: SourceCache,
  source: IngestSource,
  raw: Uint8Array,
  now: number,
): Promise<string | undefined> {
  try {
    return authenticate(c, source, raw, now);
  } catch (err) {
    if (!(err instanceof Refused) || !SECRET_FAILURES.has(err.reason)) throw err;
    const fresh = await cache.reload(source.id, 1_000);
    if (!fresh) throw err;
    return authenticate(c, fresh, raw, now);
  }
}

/** Verifies the sender; returns the dedup key it supplied (if any). */
function authenticate(c: Context, source: IngestSource, raw: Uint8Array, now: number): string | undefined {
  const secrets = SourceCache.validSecrets(source, now);
  if (source.auth === 'standard-webhooks') {
    const id = c.req.header('webhook-id');
    const failure = verify(
      secrets,
      { id, timestamp: c.req.header('webhook-timestamp'), signature: c.req.header('webhook-signature') },
      raw,
      now,
    );
    if (failure) throw new Refused(failure, unauthorized(WEBHOOK_FAILURES[failure]));
    if (id!.length > 255)
      throw new Refused('missing_headers', unauthorized('webhook-id is longer than 255 characters.'));
    return id;
  }
  const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
  if (!bearerMatches(secrets, token)) {
    throw new Refused(
      'bad_token',
      unauthorized('Send the source’s token as "Authorization: Bearer <token>".'),
    );
  }
  const key = c.req.header('idempotency-key');
  if (key !== undefined && (key === '' || key.length > 255)) {
    throw new Refused(
      'bad_idempotency_key',
      new AppError('bad_request', 'Idempotency-Key must be 1 to 255 characters.'),
    );
  }
  return key;
}

const WEBHOOK_FAILURES = {
  missing_headers: 'Send webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks).',
  stale_timestamp: 'webhook-timestamp is more than 5 minutes away from now (or not a number of seconds).',
  bad_signature: 'No webhook-signature entry matches the body with this source’s secret.',
} as const;

const tooLarge = (max: number) =>
  new Refused('too_large', new AppError('payload_too_large', `An event body may be at most ${max} bytes.`));

/**
 * On node:http, straight from the socket: building a web `Request` and its stream costs more per
 * event than the signature check and the SQL together (measured). Past `max` the rest of the body
 * is read and dropped, not kept, and the 413 goes out. A client gone before the end (an `error`
 * or a `close` first, or already gone when we get here, where no event would come) is refused as
 * aborted, so the request always ends and nothing is stored.
 */
function readIncoming(incoming: IncomingMessage, max: number): Promise<Buffer> {
  if (Number(incoming.headers['content-length'] ?? Number.NaN) > max) return Promise.reject(tooLarge(max));
  if (incoming.destroyed) return Promise.reject(aborted());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) return void chunks.push(chunk);
      refused = true;
      incoming.off('data', onData);
      incoming.resume(); // drain and drop
      chunks.length = 0;
      reject(tooLarge(max));
    };
    const onGone = () => {
      if (!incoming.readableEnded) reject(aborted());
    };
    incoming.on('data', onData);
    incoming.once('end', () => {
      if (!refused) resolve(Buffer.concat(chunks, size));
    });
    incoming.once('error', onGone);
    incoming.once('close', onGone);
  });
}

const aborted = () => new Refused('aborted', clientAborted());

/**
 * The body, refused with 413 as soon as it passes `max` bytes: a declared Content-Length over the
 * limit is refused before reading anything, and a chunked body is cut off mid-stream, so a huge
 * request is never held in memory.
 */
async function readLimited(req: Request, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get('content-length') ?? Number.NaN);
  if (declared > max) throw tooLarge(max);
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
