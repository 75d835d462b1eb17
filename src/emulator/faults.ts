import { defaultError, errorBody, jsonResponse, oauthError, rateLimited } from './errors.js';
import type { FaultSpec } from './types.js';

interface ActiveFault extends FaultSpec {
  remaining: number;
}

/** Injected failures: the next `times` matching requests get a canned response instead. */
export class FaultStore {
  private faults: ActiveFault[] = [];

  inject(fault: FaultSpec): void {
    const times = fault.times ?? 1;
    if (!(times > 0)) throw new RangeError('fault.times must be > 0');
    this.faults.push({ ...fault, remaining: times });
  }

  clear(): void {
    this.faults = [];
  }

  /** The first matching fault, consuming one of its uses (oldest injected wins). */
  take(method: string, path: string): FaultSpec | undefined {
    const fault = this.faults.find(
      (f) =>
        (f.method === undefined || f.method.toUpperCase() === method.toUpperCase()) &&
        (typeof f.path === 'string' ? f.path === path : new RegExp(f.path.source, f.path.flags).test(path)),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }
}

const NO_BODY = new Set([204, 205, 304]);

/** The response for a fault: its own body/headers, else a plausible default body for the status. */
export function faultResponse(fault: FaultSpec, path: string, contextId: string): Response {
  const headers = fault.headers ?? {};
  if (NO_BODY.has(fault.status)) return new Response(null, { status: fault.status, headers });
  if (fault.body !== undefined) {
    if (typeof fault.body === 'string') return new Response(fault.body, { status: fault.status, headers });
    return jsonResponse(fault.status, fault.body, headers);
  }
  if (fault.status === 429) {
    const override = Object.entries(headers).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
    const seconds = Number.parseInt(override ?? '1', 10);
    return rateLimited(contextId, Number.isFinite(seconds) && seconds >= 1 ? seconds : 1, headers);
  }
  if (path === '/oauth/token' && (fault.status === 400 || fault.status === 401)) {
    const r =
      fault.status === 401
        ? oauthError(401, 'invalid_client', 'authentication failed')
        : oauthError(400, 'invalid_request', 'invalid request');
    for (const [k, v] of Object.entries(headers)) r.headers.set(k, v);
    return r;
  }
  const { code, message } = defaultError(fault.status);
  return jsonResponse(fault.status, errorBody(fault.status, code, message, contextId), headers);
}
