import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startEmulator, tokenRequest } from './harness.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let h: Harness;

beforeAll(async () => {
  h = await startEmulator({ rateLimitPerMinute: 3 });
});
afterAll(() => h.close());
beforeEach(() => {
  h.emu.clearFaults();
  h.emu.configure({ rateLimitPerMinute: 3 });
});

const me = (token: string) => h.call('/api/v2/organizations/me', { token });

describe('correlation and rate-limit headers', () => {
  it('every /api/v2 response has a fresh ININ-Correlation-Id and the token window', async () => {
    const { token } = await h.orgWithClient('Headers');
    const a = await me(token);
    const b = await me(token);
    expect(a.headers.get('ININ-Correlation-Id')).toMatch(UUID);
    expect(b.headers.get('ININ-Correlation-Id')).not.toBe(a.headers.get('ININ-Correlation-Id'));
    expect(a.headers.get('inin-ratelimit-count')).toBe('1');
    expect(b.headers.get('inin-ratelimit-count')).toBe('2');
    expect(b.headers.get('inin-ratelimit-allowed')).toBe('3');
    expect(a.headers.get('inin-ratelimit-reset')).toBe('60');
    h.clock.advance(10_500);
    expect((await me(token)).headers.get('inin-ratelimit-reset')).toBe('50');
  });

  it('no rate-limit headers when no token was identified', async () => {
    const res = await h.call('/api/v2/organizations/me');
    expect(res.headers.get('ININ-Correlation-Id')).toMatch(UUID);
    expect(res.headers.get('inin-ratelimit-count')).toBeNull();
  });
});

describe('rate limit', () => {
  it('answers the normalized 429 above the limit and resets after the window', async () => {
    const { token } = await h.orgWithClient('Limited');
    for (let i = 0; i < 3; i++) expect((await me(token)).status).toBe(200);
    h.clock.advance(18_200);
    const res = await me(token);
    expect(res.status).toBe(429);
    const id = res.headers.get('ININ-Correlation-Id');
    expect(id).toMatch(UUID);
    expect(res.headers.get('Retry-After')).toBe('42');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('inin-ratelimit-count')).toBe('4');
    expect(await res.json()).toEqual({
      message: 'Rate limit exceeded the maximum. Retry the request in [42] seconds',
      code: 'too.many.requests.retry.after',
      status: 429,
      contextId: id,
      details: [],
      errors: [],
    });
    h.clock.advance(41_799);
    expect((await me(token)).headers.get('Retry-After')).toBe('1');
    h.clock.advance(1);
    const fresh = await me(token);
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('inin-ratelimit-count')).toBe('1');
  });

  it('counts per token', async () => {
    const { orgId, token } = await h.orgWithClient('PerToken');
    for (let i = 0; i < 3; i++) await me(token);
    expect((await me(token)).status).toBe(429);
    const other = h.emu.createClient({ orgId, name: 'second' });
    expect((await me(await h.login(other.id, other.secret))).status).toBe(200);
  });

  it('null turns it off', async () => {
    h.emu.configure({ rateLimitPerMinute: null });
    const { token } = await h.orgWithClient('Unlimited');
    for (let i = 0; i < 6; i++) expect((await me(token)).status).toBe(200);
    expect((await me(token)).headers.get('inin-ratelimit-count')).toBeNull();
  });
});

describe('fault injection', () => {
  it('short-circuits the next matching request with a default ErrorBody, then stops', async () => {
    const { token } = await h.orgWithClient('Faulty');
    h.emu.injectFault({ method: 'GET', path: '/api/v2/organizations/me', status: 503 });
    const res = await me(token);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { code: string; contextId: string };
    expect(body.code).toBe('service.unavailable');
    expect(body.contextId).toBe(res.headers.get('ININ-Correlation-Id'));
    expect((await me(token)).status).toBe(200);
    expect(h.emu.requests.at(-2)).toMatchObject({ path: '/api/v2/organizations/me', status: 503 });
  });

  it('honours method, RegExp paths, times, custom headers and body', async () => {
    const { token } = await h.orgWithClient('Faulty2');
    h.emu.injectFault({ method: 'POST', path: /organizations/, status: 500 });
    h.emu.injectFault({
      path: /^\/api\/v2\/organizations\//,
      status: 502,
      headers: { 'X-Test': 'y' },
      body: { hi: 1 },
      times: 2,
    });
    for (let i = 0; i < 2; i++) {
      const res = await me(token);
      expect(res.status).toBe(502);
      expect(res.headers.get('x-test')).toBe('y');
      expect(await res.json()).toEqual({ hi: 1 });
    }
    expect((await me(token)).status).toBe(200);
    h.emu.clearFaults();
  });

  it('a 429 fault gets the normalized body and Retry-After (overridable)', async () => {
    const { token } = await h.orgWithClient('Faulty3');
    h.emu.injectFault({ path: '/api/v2/organizations/me', status: 429, headers: { 'Retry-After': '7' } });
    const res = await me(token);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toMatchObject({
      message: 'Rate limit exceeded the maximum. Retry the request in [7] seconds',
      code: 'too.many.requests.retry.after',
    });
  });

  it('faults /oauth/token too, Infinity times until cleared', async () => {
    const org = h.emu.createOrg({ name: 'Login faults' });
    const client = h.emu.createClient({ orgId: org.id });
    h.emu.injectFault({ path: '/oauth/token', status: 500, times: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 3; i++)
      expect((await tokenRequest(h.url, client.id, client.secret)).status).toBe(500);
    h.emu.clearFaults();
    expect((await tokenRequest(h.url, client.id, client.secret)).status).toBe(200);
  });
});

describe('latency', () => {
  it('with latencyMs, an API call is answered no sooner than that, and is recorded while in flight', async () => {
    const { token } = await h.orgWithClient('Slow');
    h.emu.configure({ latencyMs: 80 });
    try {
      h.emu.clearRequests();
      const started = performance.now();
      const pending = me(token);
      await expect.poll(() => h.emu.requests.map((r) => r.status)).toEqual([0]);
      expect((await pending).status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(75);
      expect(h.emu.requests.map((r) => r.status)).toEqual([200]);
    } finally {
      h.emu.configure({ latencyMs: 0 });
    }
  });
});
