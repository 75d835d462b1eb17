import { request } from 'node:http';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../src/http/server.js';

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('graceful close', () => {
  it('finishes in-flight requests, refuses new connections, then resolves', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered!: () => void;
    const inside = new Promise<void>((r) => {
      entered = r;
    });
    const app = new Hono();
    app.get('/slow', async (c) => {
      entered();
      await gate;
      return c.text('done');
    });
    const server = await startServer(app, { port: 0, host: '127.0.0.1' });

    const inFlight = get(`${server.url}/slow`);
    await inside;
    let closed = false;
    const closing = server.close(30_000).then(() => {
      closed = true;
    });

    // New connections are refused while the old request is still running.
    await expect(get(`${server.url}/slow`)).rejects.toThrow(/ECONNREFUSED/);
    expect(closed).toBe(false);

    release();
    expect(await inFlight).toEqual({ status: 200, body: 'done' });
    await closing;
    expect(closed).toBe(true);
  });
});
