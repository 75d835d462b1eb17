import { createRoute, z } from '@hono/zod-openapi';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBaseApp } from '../../src/app.js';
import { jsonBody } from '../../src/http/middleware.js';
import { type RunningServer, startServer } from '../../src/http/server.js';
import { createLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';

/**
 * The shared request machinery every /v1 route is built on (JSON body checks, the validation hook,
 * the 500 mapper), exercised over real HTTP on probe routes mounted on the real base app.
 */
const probe = createRoute({
  method: 'post',
  path: '/probe',
  middleware: [jsonBody(1024)] as const,
  request: {
    body: {
      content: {
        'application/json': {
          schema: z.object({
            name: z.string().min(1),
            when: z.object({ all: z.array(z.object({ op: z.enum(['eq', 'ne']) })) }),
          }),
        },
      },
    },
  },
  responses: { 200: { description: 'ok' } },
});

describe('problem+json for bad input', () => {
  let server: RunningServer;
  const logs: string[] = [];
  beforeAll(async () => {
    const app = createBaseApp({
      logger: createLogger('info', (l) => logs.push(l)),
      metrics: createMetrics(),
    });
    app.openapi(probe, (c) => c.json({ ok: true }, 200));
    app.get('/boom', () => {
      throw new Error('SELECT secret FROM tenants -- internal detail');
    });
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
  });
  afterAll(() => server.close());

  const post = (body: string, type = 'application/json') =>
    fetch(`${server.url}/probe`, { method: 'POST', headers: { 'content-type': type }, body });

  it('accepts a valid body', async () => {
    const res = await post(JSON.stringify({ name: 'x', when: { all: [{ op: 'eq' }] } }));
    expect(res.status).toBe(200);
  });

  it('415 when the Content-Type is not JSON', async () => {
    const res = await post('{"name":"x"}', 'text/plain');
    expect(res.status).toBe(415);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 415, code: 'unsupported_media_type' });
  });

  it('400 for malformed JSON', async () => {
    const res = await post('{"name":');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ status: 400, code: 'malformed_json' });
  });

  it('413 past the body limit', async () => {
    const res = await post(JSON.stringify({ name: 'x'.repeat(2000) }));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('413 closes the connection, so the client’s next request on it is not cut off', async () => {
    const pool = new Pool(server.url, { connections: 1 });
    try {
      const body = JSON.stringify({ name: 'x'.repeat(300_000) });
      const refused = await pool.request({
        method: 'POST',
        path: '/probe',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await refused.body.text();
      expect(refused.statusCode).toBe(413);
      expect(refused.headers.connection).toBe('close');
      const next = await pool.request({ method: 'GET', path: '/nope' });
      await next.body.text();
      expect(next.statusCode).toBe(404);
    } finally {
      await pool.close();
    }
  });

  it('422 with every problem and its path', async () => {
    const res = await post(JSON.stringify({ name: '', when: { all: [{ op: 'eq' }, { op: 'nope' }] } }));
    expect(res.status).toBe(422);
    const body = (await res.json()) as { errors: Array<{ path: string; message: string }> };
    expect(body).toMatchObject({ status: 422, code: 'validation_failed' });
    expect(body.errors.map((e) => e.path).sort()).toEqual(['name', 'when.all[1].op']);
    for (const e of body.errors) expect(e.message.length).toBeGreaterThan(0);
  });

  it('500 without internals, logged with the request id', async () => {
    const res = await fetch(`${server.url}/boom`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('SELECT');
    expect(text).not.toContain('at ');
    const body = JSON.parse(text) as { requestId: string; code: string };
    expect(body.code).toBe('internal');
    const logged = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'unhandled error');
    expect(logged?.requestId).toBe(body.requestId);
    expect(JSON.stringify(logged)).toContain('SELECT secret');
  });
});
