import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgDatabase } from '../../src/db/pg/client.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status: res.status });
  expect(typeof body.type).toBe('string');
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  return body;
}

describe('ops routes', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('GET /healthz answers 200 {status: ok}', async () => {
    const res = await fetch(`${app.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 when the database answers and migrations are applied', async () => {
    const res = await fetch(`${app.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /metrics serves Prometheus text including request latency', async () => {
    await fetch(`${app.url}/healthz`);
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('# TYPE relay_http_request_duration_seconds histogram');
    expect(text).toMatch(
      /relay_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} \d+/,
    );
  });

  it('GET /metrics reads the queue depth once a scrape for both queue gauges', async () => {
    const queue = app.deps.delivery.queue;
    const depth = queue.depth;
    let reads = 0;
    queue.depth = () => {
      reads++;
      return depth.call(queue);
    };
    try {
      const text = await (await fetch(`${app.url}/metrics`)).text();
      expect(text).toContain('relay_queue_jobs{status="succeeded"} 0');
      expect(text).toContain('relay_queue_oldest_pending_age_seconds 0');
      expect(reads).toBe(1);
    } finally {
      queue.depth = depth;
    }
  });

  it('GET /openapi.json is an OpenAPI 3.1 document listing the routes', async () => {
    const res = await fetch(`${app.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics']));
  });

  it('puts a request id on every response and keeps a sane incoming one', async () => {
    const own = await fetch(`${app.url}/healthz`);
    expect(own.headers.get('x-request-id')).toMatch(/^req_[0-9a-z]{26}$/);
    const given = await fetch(`${app.url}/nope`, { headers: { 'x-request-id': 'lb-1234' } });
    expect(given.headers.get('x-request-id')).toBe('lb-1234');
    expect(((await given.json()) as { requestId: string }).requestId).toBe('lb-1234');
    const hostile = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': 'a b<script>' } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it.each([
    ['GET', '/nope', 404],
    ['DELETE', '/healthz', 405],
    ['GET', '/metrics', 200],
  ])('puts the request id on %s %s (%i), matching the problem body', async (method, path, status) => {
    const res = await fetch(`${app.url}${path}`, { method });
    expect(res.status).toBe(status);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^req_/);
    if (status >= 400) expect(((await res.json()) as { requestId: string }).requestId).toBe(id);
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await fetch(`${app.url}/v1/does-not-exist`);
    expect(res.status).toBe(404);
    expect(await problem(res)).toMatchObject({ code: 'not_found' });
  });

  it('answers a wrong method with a 405 problem and an Allow header', async () => {
    const res = await fetch(`${app.url}/healthz`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(await problem(res)).toMatchObject({ code: 'method_not_allowed' });
  });

  it('writes one JSON log line per request without the authorization header', async () => {
    const before = app.logs.length;
    await fetch(`${app.url}/healthz?token=abc`, { headers: { authorization: 'Bearer super-secret-token' } });
    const lines = app.logs.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method: 'GET', path: '/healthz', status: 200, level: 'info' });
    expect(typeof requests[0]?.durationMs).toBe('number');
    expect(app.logs.join('')).not.toContain('super-secret-token');
    expect(app.logs.join('')).not.toContain('token=abc');
  });
});

describe('readiness', () => {
  it('is 503 while migrations are not applied', async () => {
    const app = await startTestApp({ migrate: false });
    try {
      const res = await fetch(`${app.url}/readyz`);
      expect(res.status).toBe(503);
      expect(await problem(res)).toMatchObject({ code: 'service_unavailable' });
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
      await migrate(app);
      expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('is 503 when the database does not answer', async () => {
    const app = await startTestApp();
    try {
      // The app's handle (SQLite) or pool (PostgreSQL) closed under it.
      await app.deps.storage.close();
      expect((await fetch(`${app.url}/metrics`)).status).toBe(200);
      const res = await fetch(`${app.url}/readyz`);
      expect(res.status).toBe(503);
      expect((await problem(res)).detail).toMatch(/database unavailable/);
    } finally {
      await app.close();
    }
  });
});

/** Applies the migrations to the app's database behind its back, as an operator would. */
async function migrate(app: TestApp): Promise<void> {
  if (app.backend === 'sqlite') return app.database.migrate();
  const database = openPgDatabase(app.dbPath, { max: 1 });
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
}
