import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { parseRawResponse, type RawResponse, rawExchange } from '../helpers/raw-http.js';

/**
 * Requests Node's own HTTP parser refuses never reach a route; they are still answered like every
 * other error (problem+json with a request id), the connection closes, and nothing is logged as
 * an error.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

async function exchange(bytes: string): Promise<RawResponse> {
  const res = parseRawResponse(await rawExchange(app.url, bytes));
  if (!res) throw new Error('no HTTP response');
  return res;
}

function expectProblem(res: RawResponse, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('application/problem+json');
  expect(res.headers.connection).toBe('close');
  const body = JSON.parse(res.body) as { status: number; code: string; requestId: string };
  expect(body).toMatchObject({ status, code, type: `urn:attribute-relay:problem:${code}` });
  expect(body.requestId).toMatch(/^req_/);
  expect(res.headers['x-request-id']).toBe(body.requestId);
  return body;
}

const errorLines = () => app.logs.filter((l) => (JSON.parse(l) as { level: string }).level === 'error');

describe('requests Node’s parser refuses', () => {
  it('a malformed request line: 400 problem+json with a request id, logged at info', async () => {
    const body = expectProblem(await exchange('GET /healthz HTTP/1.1 extra\r\n\r\n'), 400, 'bad_request');
    const logged = app.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'info', msg: 'client_error', requestId: body.requestId, status: 400 }),
    );
    expect(errorLines()).toEqual([]);
  });

  it('headers over 16 KiB: 431 problem+json', async () => {
    const res = await exchange(
      `GET /healthz HTTP/1.1\r\nhost: relay\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expectProblem(res, 431, 'headers_too_large');
    expect(errorLines()).toEqual([]);
  });

  it('no Host header, or a target that is not a path: 400 problem+json, not a bare 400', async () => {
    expectProblem(await exchange('GET /healthz HTTP/1.1\r\n\r\n'), 400, 'bad_request');
    expectProblem(await exchange('GET /healthz HTTP/1.0\r\n\r\n'), 400, 'bad_request');
    const star = await exchange('OPTIONS * HTTP/1.1\r\nhost: relay\r\nconnection: close\r\n\r\n');
    expect(star.status).toBe(400);
    expect(JSON.parse(star.body)).toMatchObject({
      code: 'bad_request',
      requestId: star.headers['x-request-id'],
    });
    expect(errorLines()).toEqual([]);
  });

  it('a chunk size that is not hex: 400 problem+json', async () => {
    const res = await exchange(
      'POST /v1/session HTTP/1.1\r\nhost: relay\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
    );
    expectProblem(res, 400, 'bad_request');
    expect(errorLines()).toEqual([]);
  });
});
