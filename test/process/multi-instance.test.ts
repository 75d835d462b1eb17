import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenesysEmulator, type RecordedRequest } from '../../src/emulator/index.js';
import { freePort } from '../helpers/ports.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { type Spawned, spawnEntry } from '../helpers/process.js';
import { signedPost } from '../helpers/signed.js';
import { INSTALLER_PERMISSIONS } from '../helpers/world.js';

/**
 * Scale-out, end to end: three server processes on one PostgreSQL and one Genesys emulator (which
 * limits each token's requests per minute, as Genesys does). 5,000 signed events for 50
 * participants of three orgs go to the instances round robin; one instance is killed with -9
 * midway and started again. Each participant's events are sent one after the other (the next once
 * the previous has its 202), so "the last event" of a participant is well defined.
 */
const EVENTS = 5_000;
const PARTICIPANTS = 50;
const ORGS = 3;
/**
 * Each org's requestsPerMinute, and the emulator's limit per token: Genesys' default. The three
 * instances together would send more (with 900: about 450 calls an org in 30 s), so the shared
 * budget is what holds them to it; the test checks that it was reached.
 */
const BUDGET = 300;

interface Org {
  id: string;
  source: { id: string; secret: string };
  conversations: string[];
}

let pg: TestPostgres;
let emu: GenesysEmulator;
let emuServer: { url: string; close(): Promise<void> };
const instances: Array<{ proc: Spawned; url: string; port: number }> = [];
let env: Record<string, string>;

beforeAll(async () => {
  pg = await startPostgres();
  emu = new GenesysEmulator({ latencyMs: 5, rateLimitPerMinute: BUDGET });
  emuServer = await emu.listen({ port: 0, host: '127.0.0.1' });
  env = {
    HOST: '127.0.0.1',
    DATABASE_URL: pg.url,
    RELAY_MASTER_KEY: randomBytes(32).toString('base64url'),
    GENESYS_BASE_URL: emuServer.url,
    LOG_LEVEL: 'info',
  };
  // Started together: they race to migrate the empty database, and take turns.
  const ports = [await freePort(), await freePort(), await freePort()];
  instances.push(...(await Promise.all(ports.map((port) => start(port)))));
}, 60_000);

afterAll(async () => {
  for (const i of instances) if (i.proc.child.exitCode === null) i.proc.child.kill('SIGKILL');
  await emuServer?.close();
  await pg?.close();
});

async function start(port: number) {
  const proc = spawnEntry('src/main.ts', { ...env, PORT: String(port) });
  const line = await proc.waitForLog('listening', 30_000);
  return { proc, url: line.url as string, port };
}

describe('three instances on one PostgreSQL', () => {
  it('kill -9 one midway: every 202 reaches an outcome, values never go backwards, budgets hold', async () => {
    const orgs: Org[] = [];
    for (let o = 0; o < ORGS; o++) orgs.push(await installOrg(o, instances[o % 3]!.url));
    const participants = Array.from({ length: PARTICIPANTS }, (_, p) => {
      const org = orgs[p % ORGS]!;
      const conversationId = emu.createConversation({
        orgId: org.id,
        participants: [{ purpose: 'customer' }],
      }).id;
      org.conversations.push(conversationId);
      return { org, conversationId };
    });
    emu.clearRequests();
    const startedAt = Date.now();

    // Participant p gets events p, p + 50, p + 100, …; event i goes to instance i % 3, or the
    // next live one when that one is down (the same webhook-id: dedup keeps it once).
    const eventIds = new Set<string>();
    let accepted = 0;
    let killed = false;
    const send = async (i: number) => {
      const { org, conversationId } = participants[i % PARTICIPANTS]!;
      const body = { type: 't', c: conversationId, seq: i };
      for (let k = 0; ; k++) {
        const target = instances[(i + k) % 3]!;
        const res = await signedPost(target.url, org.source, body, `m${i}`).catch(() => undefined);
        if (res?.status === 202) {
          eventIds.add(((await res.json()) as { eventId: string }).eventId);
          return;
        }
        if (res) throw new Error(`event ${i}: ${res.status} ${await res.text()}`);
      }
    };
    const restarted = (async () => {
      await expect.poll(() => accepted, { timeout: 60_000, interval: 5 }).toBeGreaterThanOrEqual(EVENTS / 2);
      const victim = instances[1]!;
      victim.proc.child.kill('SIGKILL');
      await victim.proc.exited;
      killed = true;
      instances[1] = await start(victim.port);
    })();
    await Promise.all(
      participants.map(async (_, p) => {
        for (let i = p; i < EVENTS; i += PARTICIPANTS) {
          await send(i);
          accepted++;
        }
      }),
    );
    const sentSeconds = (Date.now() - startedAt) / 1000;
    await restarted;
    expect(killed).toBe(true);
    expect(eventIds.size).toBe(EVENTS);

    // Every accepted event reaches an outcome (the killed instance's leases run out elsewhere).
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      await expect
        .poll(
          async () =>
            Number(
              (
                await sql<{ n: string }[]>`
                  select count(distinct event_id) as n from audit_log
                  where kind in ('patch.applied', 'patch.skipped', 'patch.failed') and event_id = any(${[...eventIds]})`
              )[0]!.n,
            ),
          { timeout: 120_000, interval: 500 },
        )
        .toBe(EVENTS);
      const failed = await sql`select count(*)::int as n from audit_log where kind = 'patch.failed'`;
      expect(failed[0]!.n).toBe(0);
    } finally {
      await sql.end();
    }

    const requests = emu.requests.filter((r) => r.at >= startedAt);
    const patches = sentValues(requests);
    expect(patches.size).toBe(PARTICIPANTS);
    for (const [path, values] of patches) {
      const backwards = values.findIndex((v, i) => i > 0 && v < values[i - 1]!);
      expect(backwards, `${path} received ${values.join(', ')}`).toBe(-1);
    }
    for (const [p, { conversationId }] of participants.entries()) {
      const last = EVENTS - PARTICIPANTS + p;
      expect(emu.getConversation(conversationId)?.participants[0]?.attributes.seq).toBe(String(last));
    }

    const busiest = orgs.map((o) => busiestWindow(requests, o.id, 60_000));
    const tokens = requests.filter((r) => r.path === '/oauth/token').length;
    // The figures the closing note quotes: what the run cost, per org.
    process.stdout.write(
      `${JSON.stringify({
        seconds: (Date.now() - startedAt) / 1000,
        sentSeconds,
        apiCalls: orgs.map((o) => requests.filter((r) => isApiCall(r, o.id)).length),
        patches: requests.filter((r) => r.method === 'PATCH').length,
        busiestMinute: busiest,
        tokens,
        status429: requests.filter((r) => r.status === 429).length,
      })}\n`,
    );
    for (const n of busiest) expect(n).toBeLessThanOrEqual(BUDGET * 1.05);
    // The budget bound (else the check above proves nothing): three budgets would allow 900.
    expect(Math.max(...busiest)).toBeGreaterThanOrEqual(BUDGET * 0.9);
    // One token per org for every instance, the restarted one too: the one fetched at install.
    expect(tokens).toBe(0);
  }, 300_000);
});

/** An installed org (its own grant, a budget of BUDGET), a source and a rule `seq ← $.seq`. */
async function installOrg(n: number, url: string): Promise<Org> {
  const org = emu.createOrg({ name: `Org ${n}` });
  const admin = emu.createUser({ orgId: org.id, name: `Admin ${n}`, permissions: INSTALLER_PERMISSIONS });
  const token = emu.createUserToken(admin.id);
  const grant = emu.createClient({ orgId: org.id, permissions: ['conversation:communication:view'] });
  const call = async (method: string, path: string, bearer: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const environment = { environment: 'mypurecloud.com' };
  await call('POST', '/v1/install', token, {
    ...environment,
    clientId: grant.id,
    clientSecret: grant.secret,
  });
  const session = (await call('POST', '/v1/session', token, environment)).token as string;
  await call('PATCH', '/v1/tenant', session, { settings: { requestsPerMinute: BUDGET } });
  const source = (await call('POST', '/v1/sources', session, { name: 'CRM', auth: 'standard-webhooks' })) as {
    id: string;
    secret: string;
  };
  await call('POST', '/v1/rules', session, {
    name: 'seq',
    when: { path: '$.type', op: 'exists' },
    target: { conversationId: '$.c' },
    set: { seq: '{{ $.seq }}' },
  });
  return { id: org.id, source, conversations: [] };
}

/** A call that counts against the org's grant (its client token), 429s included. */
const isApiCall = (r: RecordedRequest, orgId: string) =>
  r.orgId === orgId && r.tokenKind === 'client' && r.path.startsWith('/api/v2/');

/** The most calls of the org in any window of `ms`. */
function busiestWindow(requests: readonly RecordedRequest[], orgId: string, ms: number): number {
  const at = requests
    .filter((r) => isApiCall(r, orgId))
    .map((r) => r.at)
    .sort((a, b) => a - b);
  let most = 0;
  for (let lo = 0, hi = 0; hi < at.length; hi++) {
    while (at[hi]! - at[lo]! >= ms) lo++;
    most = Math.max(most, hi - lo + 1);
  }
  return most;
}

/** The `seq` values each participant was sent, in the order Genesys received them (2xx only). */
function sentValues(requests: readonly RecordedRequest[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of requests) {
    if (r.method !== 'PATCH' || r.status < 200 || r.status > 299) continue;
    const seq = (JSON.parse(r.body) as { attributes: Record<string, string> }).attributes.seq;
    if (seq !== undefined) out.set(r.path, [...(out.get(r.path) ?? []), Number(seq)]);
  }
  return out;
}
