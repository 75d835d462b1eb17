import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSealer } from '../../src/crypto/secrets.js';
import { openPgDatabase, type PgDatabase } from '../../src/db/pg/client.js';
import { GenesysEmulator } from '../../src/emulator/index.js';
import { GenesysClient } from '../../src/genesys/client.js';
import {
  type SharedToken,
  type SharedTokens,
  sealedSharedTokens,
  tokenHash,
} from '../../src/genesys/shared-tokens.js';
import type { Credentials } from '../../src/genesys/token-cache.js';
import { pgSharedTokenStore } from '../../src/genesys/tokens-pg-store.js';
import { ManualClock } from '../helpers/clock.js';
import { startPgDatabase } from '../helpers/pg-db.js';

/**
 * Several relay instances on one PostgreSQL database share each org's access token: two clients,
 * each with a connection pool of its own (as two processes would have), against the emulator over
 * real HTTP, on one manual clock.
 */
let pg: Awaited<ReturnType<typeof startPgDatabase>>;
beforeAll(async () => {
  pg = await startPgDatabase();
});
afterAll(() => pg?.close());

const sealer = createSealer({ derive: () => new Uint8Array(32).fill(7) });
let clock: ManualClock;
let emu: GenesysEmulator;
let server: { url: string; close(): Promise<void> };
let creds: Map<string, Credentials>;
let pools: PgDatabase[];
let clients: GenesysClient[];

function instance(): GenesysClient {
  const database = openPgDatabase(pg.url, { max: 4 });
  pools.push(database);
  return clientOver(sealedSharedTokens(pgSharedTokenStore(database.db), sealer));
}

/** A client sharing its tokens through `sharedTokens` (closed after the test). */
function clientOver(sharedTokens: SharedTokens): GenesysClient {
  const client = new GenesysClient({
    baseUrl: server.url,
    clock,
    credentials: (orgId) => creds.get(orgId),
    sharedTokens,
  });
  clients.push(client);
  return client;
}

/** Shared tokens in memory (a slow or racing database, scripted by the test): rows, read, write. */
function inMemory() {
  const rows = new Map<string, SharedToken>();
  const access = {
    read: async (org: string) => rows.get(org),
    write: async (org: string, t: SharedToken) => void rows.set(org, t),
  };
  return { rows, access };
}

function installOrg(name: string, lifetime = 600) {
  const org = emu.createOrg({ name });
  const grant = emu.createClient({
    orgId: org.id,
    name: `${name} relay`,
    permissions: ['conversation:communication:view'],
    accessTokenValiditySeconds: lifetime,
  });
  creds.set(org.id, { environment: 'mypurecloud.com', clientId: grant.id, clientSecret: grant.secret });
  return org.id;
}

const tokenRequests = () => emu.requests.filter((r) => r.path === '/oauth/token').length;
const calls = (c: GenesysClient, orgId: string, n: number) =>
  Array.from({ length: n }, () => c.forOrg(orgId).organizationsMe());
async function tokenOf(c: GenesysClient, orgId: string): Promise<string> {
  const t = await c.tokens.get(orgId);
  if ('kind' in t) throw new Error(t.code);
  return t.token;
}

beforeEach(async () => {
  await pg.database.sql`truncate org_tokens`;
  clock = new ManualClock();
  emu = new GenesysEmulator({ clock: clock.now });
  server = await emu.listen({ port: 0, host: '127.0.0.1' });
  creds = new Map();
  pools = [];
  clients = [];
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(pools.map((p) => p.close()));
  await server.close();
});

describe('one access token per org for all instances', () => {
  it('two instances asking at once fetch one token between them', async () => {
    const orgId = installOrg('Acme');
    const [a, b] = [instance(), instance()];
    const outcomes = await Promise.all([...calls(a, orgId, 20), ...calls(b, orgId, 20)]);
    for (const o of outcomes) expect(o.kind).toBe('ok');
    expect(tokenRequests()).toBe(1);
    expect(await tokenOf(a, orgId)).toBe(await tokenOf(b, orgId));
    // A third instance starting later takes it too.
    expect((await instance().forOrg(orgId).organizationsMe()).kind).toBe('ok');
    expect(tokenRequests()).toBe(1);
  });

  it('a token Genesys refuses (401) is replaced once, and both use the new one', async () => {
    const orgId = installOrg('Acme');
    const [a, b] = [instance(), instance()];
    await Promise.all([...calls(a, orgId, 5), ...calls(b, orgId, 5)]);
    const first = await tokenOf(a, orgId);
    emu.revokeToken(first);
    const outcomes = await Promise.all([...calls(a, orgId, 10), ...calls(b, orgId, 10)]);
    for (const o of outcomes) expect(o.kind).toBe('ok');
    expect(tokenRequests()).toBe(2);
    const second = await tokenOf(a, orgId);
    expect(second).not.toBe(first);
    expect(await tokenOf(b, orgId)).toBe(second);
  });

  it('refreshes ahead of expiry once for all instances', async () => {
    const orgId = installOrg('Acme', 600);
    const [a, b] = [instance(), instance()];
    await Promise.all([...calls(a, orgId, 3), ...calls(b, orgId, 3)]);
    const first = await tokenOf(a, orgId);
    clock.advance(550_000); // inside the last minute: served, and refreshed in the background
    for (const o of await Promise.all([...calls(a, orgId, 3), ...calls(b, orgId, 3)]))
      expect(o.kind).toBe('ok');
    await vi.waitFor(async () => {
      expect(await tokenOf(a, orgId)).not.toBe(first);
      expect(await tokenOf(b, orgId)).toBe(await tokenOf(a, orgId));
    });
    expect(tokenRequests()).toBe(2);
  });

  it('stores the token sealed (bound to its org), with only its hash in clear', async () => {
    const orgId = installOrg('Acme');
    const a = instance();
    expect((await a.forOrg(orgId).organizationsMe()).kind).toBe('ok');
    const token = await tokenOf(a, orgId);
    const rows = await pg.database.sql<Record<string, unknown>[]>`select * from org_tokens`;
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0]!.token_hash).toBe(tokenHash(token));
    expect(await sealer.open(orgId, rows[0]!.token_sealed as string)).toBe(token);
    // Copied to another org's row, it does not open: that org fetches its own.
    const other = installOrg('Other');
    await pg.database.sql`insert into org_tokens select ${other}, token_sealed, token_hash,
      environment, refresh_at, use_until from org_tokens where org_id = ${orgId}`;
    expect((await instance().forOrg(other).organizationsMe()).kind).toBe('ok');
    expect(tokenRequests()).toBe(2);
  });

  it('a changed grant drops the shared token: the next instance fetches with the new grant', async () => {
    const orgId = installOrg('Acme');
    const [a, b] = [instance(), instance()];
    expect((await a.forOrg(orgId).organizationsMe()).kind).toBe('ok');
    a.tokens.invalidate(orgId);
    await vi.waitFor(async () => {
      expect(await pg.database.sql`select 1 from org_tokens`).toHaveLength(0);
    });
    expect((await b.forOrg(orgId).organizationsMe()).kind).toBe('ok');
    expect(tokenRequests()).toBe(2);
  });

  it('never takes back from the shared row a token a 401 refused, however slow its drop', async () => {
    const orgId = installOrg('Acme');
    // Shared in memory, with a drop that never lands (a slow database).
    const { access } = inMemory();
    const a = clientOver({
      ...access,
      drop: () => new Promise(() => {}),
      withLock: (_, fn) => fn(access),
    });
    expect((await a.forOrg(orgId).organizationsMe()).kind).toBe('ok');
    emu.revokeToken(await tokenOf(a, orgId));
    expect((await a.forOrg(orgId).organizationsMe()).kind).toBe('ok');
    expect(tokenRequests()).toBe(2);
  });

  it('a fetch right after a grant change waits for the shared drop, so it cannot delete the new token', async () => {
    const orgId = installOrg('Acme');
    // Shared in memory, the org's lock a queue, and a grant change's drop that lands when told.
    const { rows, access } = inMemory();
    let held: Promise<unknown> = Promise.resolve();
    const locked = <T>(fn: () => Promise<T>): Promise<T> => {
      const run = held.then(fn);
      held = run.catch(() => {});
      return run;
    };
    let land!: () => void;
    const landed = new Promise<void>((resolve) => {
      land = resolve;
    });
    const shared: SharedTokens = {
      ...access,
      drop: async (org) => {
        await landed; // a slow database: the drop's transaction is not even begun
        await locked(async () => void rows.delete(org));
      },
      withLock: (_, fn) => locked(() => fn(access)),
    };
    const client = () => clientOver(shared);
    const a = client();
    a.tokens.invalidate(orgId); // as an install does, before its division check asks for a token
    const check = a.forOrg(orgId).organizationsMe();
    await new Promise(setImmediate); // the check's fetch holds the lock by now, unless it waits
    land();
    expect((await check).kind).toBe('ok');
    expect(tokenRequests()).toBe(1);
    // The token it fetched is every instance's: the drop, queued behind it, did not delete it.
    expect((await client().forOrg(orgId).organizationsMe()).kind).toBe('ok');
    expect(tokenRequests()).toBe(1);
    expect(await tokenOf(a, orgId)).toBe(rows.get(orgId)?.token);
  });
});
