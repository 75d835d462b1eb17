import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { EmuEnv, EmulatorCore, RateInfo } from './core.js';
import { apiError, missingPermissions, rateLimited } from './errors.js';
import { faultResponse } from './faults.js';
import type { TokenRecord } from './tokens.js';
import type { RecordedRequest } from './types.js';

const WINDOW_MS = 60_000;

export const isControlPath = (path: string): boolean =>
  path === '/__emulator' || path.startsWith('/__emulator/');
const isGenesysPath = (path: string): boolean => path === '/oauth/token' || path.startsWith('/api/v2/');

/** Logs every non-control request (in arrival order) and fills in its final status afterwards. */
export function recorder(core: EmulatorCore): MiddlewareHandler<EmuEnv> {
  return async (c, next) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const body = new TextDecoder().decode(bytes);
    c.set('rawBody', body);
    c.set('rawBytes', bytes.byteLength);
    if (isControlPath(c.req.path)) return next();
    const url = new URL(c.req.url);
    const record: RecordedRequest = {
      at: core.now(),
      method: c.req.method,
      path: url.pathname,
      query: url.search.slice(1),
      headers: redactHeaders(c.req.raw.headers),
      body,
      status: 0,
    };
    core.requests.push(record);
    await next();
    record.status = c.res.status;
    Object.assign(record, identify(core, c));
  };
}

/** Never keep a usable secret in the log: `Bearer abcd…`, `Basic …`. */
export function redactHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = name === 'authorization' ? redactAuthorization(value) : value;
  });
  return out;
}

function redactAuthorization(value: string): string {
  const [scheme = '', credential = ''] = value.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer') return `Bearer ${credential.slice(0, 4)}…`;
  return `${scheme} …`;
}

/** Who made the request, as far as the credentials tell (also for refused requests). */
function identify(core: EmulatorCore, c: Context<EmuEnv>): Partial<RecordedRequest> {
  const [scheme = '', credential = ''] = (c.req.header('authorization') ?? '').trim().split(/\s+/, 2);
  const rec: TokenRecord | undefined =
    c.var.token ?? (scheme.toLowerCase() === 'bearer' ? core.identity.tokens.peek(credential) : undefined);
  if (rec) {
    const out: Partial<RecordedRequest> = { orgId: rec.orgId, tokenKind: rec.kind };
    if (rec.clientId) out.clientId = rec.clientId;
    if (rec.userId) out.userId = rec.userId;
    return out;
  }
  if (scheme.toLowerCase() !== 'basic') return {};
  const client = core.identity.clients.get(decodeBasic(credential)?.id ?? '');
  return client ? { orgId: client.orgId, clientId: client.id } : {};
}

export function decodeBasic(credential: string): { id: string; secret: string } | undefined {
  const decoded = Buffer.from(credential, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** /api/v2 responses always carry a fresh correlation id, and the token's window when known. */
export function correlation(): MiddlewareHandler<EmuEnv> {
  return async (c, next) => {
    const id = randomUUID();
    c.set('correlationId', id);
    await next();
    c.res.headers.set('ININ-Correlation-Id', id);
    const rate = c.var.rate;
    if (rate) {
      c.res.headers.set('inin-ratelimit-count', String(rate.count));
      c.res.headers.set('inin-ratelimit-allowed', String(rate.allowed));
      c.res.headers.set('inin-ratelimit-reset', String(rate.resetSeconds));
    }
  };
}

/**
 * Genesys is not instant: with `latencyMs`, each API call is answered that much later, in arrival
 * order (a crash test needs PATCHes in flight; a demo looks real).
 */
export function latency(core: EmulatorCore): MiddlewareHandler<EmuEnv> {
  return async (_c, next) => {
    const ms = core.options.latencyMs;
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    return next();
  };
}

/** Injected faults win over everything else (but the request is still recorded). */
export function faults(core: EmulatorCore): MiddlewareHandler<EmuEnv> {
  return async (c, next) => {
    if (!isGenesysPath(c.req.path)) return next();
    const fault = core.faults.take(c.req.method, c.req.path);
    if (!fault) return next();
    return faultResponse(fault, c.req.path, c.var.correlationId ?? randomUUID());
  };
}

/** Bearer auth for /api/v2, then the per-token rate limit. */
export function auth(core: EmulatorCore): MiddlewareHandler<EmuEnv> {
  return async (c, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
    if (!match?.[1]) {
      const message = 'No authentication bearer token specified in authorization header.';
      return apiError(c, 401, 'authentication.required', message);
    }
    const rec = core.identity.validToken(match[1]);
    if (!rec) return apiError(c, 401, 'bad.credentials', 'Invalid login credentials.');
    c.set('token', rec);
    const limit = core.options.rateLimitPerMinute;
    if (limit !== null) {
      const rate = countRequest(rec, core.now(), limit);
      c.set('rate', rate);
      if (rate.count > limit) return rateLimited(c.var.correlationId ?? '', rate.resetSeconds);
    }
    return next();
  };
}

/** Fixed 60 s window that starts with the token's first request after the previous window ended. */
function countRequest(rec: TokenRecord, now: number, allowed: number): RateInfo {
  if (rec.windowStart === undefined || now >= rec.windowStart + WINDOW_MS) {
    rec.windowStart = now;
    rec.windowCount = 0;
  }
  rec.windowCount += 1;
  const resetSeconds = Math.max(1, Math.ceil((rec.windowStart + WINDOW_MS - now) / 1000));
  return { count: rec.windowCount, allowed, resetSeconds };
}

/** The authenticated token; routes behind `auth` always have one. */
export function tokenOf(c: Context<EmuEnv>): TokenRecord {
  const rec = c.var.token;
  if (!rec) throw new Error('route reached without authentication');
  return rec;
}

/** A 403 `missing.permissions` unless the caller holds `permission` (wildcards honoured). */
export function denied(c: Context<EmuEnv>, core: EmulatorCore, permission: string): Response | undefined {
  return core.identity.tokenHolds(tokenOf(c), permission) ? undefined : missingPermissions(c, permission);
}
