import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signedPostRaw } from '../helpers/signed.js';
import { type InstalledOrg, installedOrg, startWorld, type World } from '../helpers/world.js';

/**
 * JSON nested deeper than 64 levels is refused wherever a body comes in (400 `json_too_deep`), so
 * nothing downstream (zod, rule checks, dry runs, encoding a response) ever meets hostile depth;
 * and a stored event is shown as received, never re-encoded.
 */
let world: World;
let acme: InstalledOrg;
let msg = 0;

beforeEach(async () => {
  world = await startWorld();
  acme = await installedOrg(world, 'Acme');
});
afterEach(() => world.close());

/** An object nesting `depth` containers in all: `{"a":[[…]]}`. */
const nested = (depth: number) => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

const ingest = (raw: string) =>
  signedPostRaw(world.app.url, acme.source, raw, `msg_${++msg}`, Math.floor(world.clock.now() / 1000));

const count = (sql: string) => (world.app.database.sqlite.prepare(sql).get() as { n: number }).n;

async function expectTooDeep(res: Response) {
  expect(res.status, await res.clone().text()).toBe(400);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = (await res.json()) as { code: string; requestId?: string };
  expect(body.code).toBe('json_too_deep');
  expect(body.requestId).toBe(res.headers.get('x-request-id'));
}

async function refusedMetric(reason: string): Promise<number> {
  const text = await (await fetch(`${world.app.url}/metrics`)).text();
  const m = new RegExp(`^relay_ingest_refused_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text);
  return Number(m?.[1] ?? 0);
}

describe('ingest', () => {
  it('refuses an event nested 65 levels deep with 400 json_too_deep, stores nothing, and counts it', async () => {
    await expectTooDeep(await ingest(nested(65)));
    expect(count('select count(*) as n from events')).toBe(0);
    expect(count("select count(*) as n from audit_log where kind = 'event.received'")).toBe(0);
    expect(await refusedMetric('json_too_deep')).toBe(1);
  });

  it('refuses the issue’s 20,000 nested arrays (40 KB) the same way', async () => {
    await expectTooDeep(await ingest(nested(20_000)));
    expect(count('select count(*) as n from events')).toBe(0);
  });

  it('counts only brackets outside strings', async () => {
    const res = await ingest(`{"text":"${'[{'.repeat(100)}\\"]}","a":${nested(63)}}`);
    expect(res.status, await res.clone().text()).toBe(202);
  });

  it('accepts exactly 64 levels; GET /v1/events/{id} shows the body exactly as sent and it replays', async () => {
    // Spacing, 1e309 and a repeated key would not survive parsing and encoding again.
    const raw = `{ "big": 1e309, "k": 1, "k": 2,\n "a": ${'['.repeat(63)}${']'.repeat(63)} }`;
    const res = await ingest(raw);
    expect(res.status, await res.clone().text()).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };
    const shown = await world.call('GET', `/v1/events/${eventId}`, { token: acme.viewer });
    expect(shown.status).toBe(200);
    expect(shown.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await shown.text();
    expect(text).toContain(`"body":${raw}`);
    const detail = JSON.parse(text) as { event: { id: string; headers: object } };
    expect(detail.event.id).toBe(eventId);
    expect(detail.event.headers).toMatchObject({ 'content-type': 'application/json' });
    const replay = await world.call('POST', `/v1/events/${eventId}/replay`, { token: acme.admin });
    expect(replay.status).toBe(202);
  });

  it('shows an event stored before the limit existed, however deep: the body is spliced in, not re-encoded', async () => {
    const raw = nested(20_000);
    world.app.database.sqlite
      .prepare(
        `insert into events (id, org_id, source_id, received_at, dedup_key, body, headers, state)
         values ('evt_deep', ?, ?, ?, null, ?, '{}', 'pending')`,
      )
      .run(acme.org.orgId, acme.source.id, world.clock.now(), raw);
    const shown = await world.call('GET', '/v1/events/evt_deep', { token: acme.viewer });
    expect(shown.status).toBe(200);
    const text = await shown.text();
    expect(text).toContain(`"body":${raw}`);
    expect((JSON.parse(text) as { event: { id: string } }).event.id).toBe('evt_deep');
  });
});

describe('admin JSON bodies', () => {
  const deepCondition = (depth: number) =>
    `${'{"not":'.repeat(depth)}{"path":"$.a","op":"exists"}${'}'.repeat(depth)}`;
  const raw = (method: string, path: string, token: string, body: string) =>
    fetch(`${world.app.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });

  const rule = (when: string) =>
    `{"name":"r","when":${when},"target":{"conversationId":"$.c","participant":{"purpose":"customer"}},"set":{"x":"{{ $.a }}"}}`;

  it('refuses a rule whose conditions nest 20,000 deep with 400 json_too_deep before validating it', async () => {
    const body = rule(deepCondition(20_000));
    await expectTooDeep(await raw('POST', '/v1/rules', acme.admin, body));
    await expectTooDeep(await raw('PUT', '/v1/rules/rule_nope', acme.admin, body));
    expect(count('select count(*) as n from rules')).toBe(0);
  });

  it('dry-runs an inline event of 64 levels and refuses one of 65 (POST /v1/rules/test)', async () => {
    const ok = await raw('POST', '/v1/rules/test', acme.viewer, `{"event":${nested(63)}}`);
    expect(ok.status, await ok.clone().text()).toBe(200);
    await expectTooDeep(await raw('POST', '/v1/rules/test', acme.viewer, `{"event":${nested(64)}}`));
    // The miss trace and the template encode what the path finds: 20,000 levels overflowed the stack.
    const withRule = `{"event":${nested(20_000)},"rule":${rule('{"path":"$.a","op":"eq","value":1}')}}`;
    await expectTooDeep(await raw('POST', '/v1/rules/test', acme.viewer, withRule));
  });

  it('refuses deep bodies on every other JSON route too', async () => {
    const deep = `{"name":${nested(20_000)}}`;
    await expectTooDeep(await raw('POST', '/v1/sources', acme.admin, deep));
    await expectTooDeep(await raw('PATCH', '/v1/tenant', acme.admin, `{"settings":${nested(64)}}`));
    await expectTooDeep(await raw('PUT', '/v1/grant', acme.admin, deep));
    await expectTooDeep(await raw('POST', '/v1/session', acme.org.admin, deep));
    await expectTooDeep(await raw('POST', '/v1/install', acme.org.admin, deep));
  });
});
