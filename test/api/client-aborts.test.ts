import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRawResponse, rawExchange } from '../helpers/raw-http.js';
import { until } from '../helpers/until.js';
import { type InstalledOrg, installedOrg, startWorld, type World } from '../helpers/world.js';

/**
 * A client that goes away mid-body did that itself: one `client_aborted` access-log line with
 * status 499 (info), no "unhandled error", nothing stored, and for ingest a refusal counted with
 * reason "aborted".
 */
let world: World;
let acme: InstalledOrg;

beforeEach(async () => {
  world = await startWorld();
  acme = await installedOrg(world, 'Acme');
});
afterEach(() => world.close());

type Line = { level: string; msg: string; status?: number; path?: string };
const lines = () => world.app.logs.map((l) => JSON.parse(l) as Line);
const count = (sql: string) => (world.app.database.sqlite.prepare(sql).get() as { n: number }).n;

/** Headers promising 100 bytes of body, then 10 bytes of it, then our side closes. */
function abortMidBody(path: string, headers: Record<string, string>) {
  const head = Object.entries({ host: 'relay', 'content-type': 'application/json', ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return rawExchange(world.app.url, `POST ${path} HTTP/1.1\r\n${head}content-length: 100\r\n\r\n{"type":"x`, {
    abort: true,
  });
}

async function expectOneAbortLine(path: string) {
  await until(() => lines().some((l) => l.path === path), `the access-log line of ${path}`);
  const logged = lines().filter((l) => l.path === path);
  expect(logged).toEqual([expect.objectContaining({ level: 'info', msg: 'client_aborted', status: 499 })]);
  expect(lines().filter((l) => l.level === 'error' || l.msg === 'unhandled error')).toEqual([]);
}

describe('a request body cut off by the client', () => {
  it('at ingest: one client_aborted line (499), counted as reason="aborted", nothing stored', async () => {
    const ts = String(Math.floor(world.clock.now() / 1000));
    await abortMidBody(`/v1/hooks/${acme.source.id}`, {
      'webhook-id': 'msg_abort',
      'webhook-timestamp': ts,
      'webhook-signature': 'v1,AAAA',
    });
    await expectOneAbortLine(`/v1/hooks/${acme.source.id}`);
    const metrics = await (await fetch(`${world.app.url}/metrics`)).text();
    expect(metrics).toMatch(/^relay_ingest_refused_total\{reason="aborted"\} 1$/m);
    expect(count('select count(*) as n from events')).toBe(0);
    expect(count("select count(*) as n from audit_log where kind = 'event.received'")).toBe(0);
  });

  it('on an admin route: one client_aborted line (499), no rule saved', async () => {
    await abortMidBody('/v1/rules', { authorization: `Bearer ${acme.admin}` });
    await expectOneAbortLine('/v1/rules');
    expect(count('select count(*) as n from rules')).toBe(0);
  });

  it('with a chunk size that is not hex: the same, and the client still gets a 400 problem', async () => {
    const raw = await rawExchange(
      world.app.url,
      `POST /v1/rules HTTP/1.1\r\nhost: relay\r\nauthorization: Bearer ${acme.admin}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"a":\r\nzz\r\n`,
    );
    expect(parseRawResponse(raw)).toMatchObject({
      status: 400,
      headers: { 'content-type': 'application/problem+json' },
    });
    await expectOneAbortLine('/v1/rules');
  });
});
