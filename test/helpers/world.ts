import { SHARED_TABLES } from '../../src/db/schema.js';
import { GenesysEmulator } from '../../src/emulator/index.js';
import type { EmulatorOptions } from '../../src/emulator/types.js';
import { startTestApp, type TestApp } from './app.js';
import { ManualClock } from './clock.js';

/** What an installing admin needs in Genesys, besides the app's own admin permission. */
export const INSTALLER_PERMISSIONS = [
  'integration:attributeRelay:admin',
  'authorization:role:view',
  'authorization:role:add',
  'authorization:grant:add',
  'oauth:client:add',
  // Re-granting divisions puts them on the client we created.
  'oauth:client:edit',
  'oauth:client:delete',
  'authorization:role:delete',
];

export interface World {
  readonly clock: ManualClock;
  readonly emu: GenesysEmulator;
  readonly app: TestApp;
  /** A request to the app; `token` becomes the bearer, `body` JSON. */
  call(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): Promise<void>;
}

/** The app and the emulator over real HTTP on 127.0.0.1, sharing one manual clock. */
export async function startWorld(
  opts: { env?: Record<string, string>; delivery?: boolean; emulator?: Omit<EmulatorOptions, 'clock'> } = {},
): Promise<World> {
  const clock = new ManualClock();
  const emu = new GenesysEmulator({ ...opts.emulator, clock: clock.now });
  const emuServer = await emu.listen({ port: 0, host: '127.0.0.1' });
  const app = await startTestApp({
    genesysBaseUrl: emuServer.url,
    clock,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.delivery ? { delivery: true } : {}),
  });
  return {
    clock,
    emu,
    app,
    call: caller(app.url),
    close: async () => {
      await app.close();
      await emuServer.close();
    },
  };
}

/** `World.call` for an app at `baseUrl`: `token` becomes the bearer, `body` JSON. */
export function caller(baseUrl: string): World['call'] {
  return (method, path, o = {}) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...o.headers,
      },
      ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
    });
}

export interface SeededOrg {
  orgId: string;
  name: string;
  /** User tokens. */
  admin: string;
  viewer: string;
  nobody: string;
  adminUserId: string;
  /** A client-credentials grant the org's admin could paste into the install form. */
  grant: { clientId: string; clientSecret: string };
}

/** An org in the emulator with an installing admin, a viewer, a user without the app, and a grant. */
export function seedOrg(world: World, name: string): SeededOrg {
  const { emu } = world;
  const org = emu.createOrg({ name });
  const admin = emu.createUser({ orgId: org.id, name: `${name} Admin`, permissions: INSTALLER_PERMISSIONS });
  const viewer = emu.createUser({
    orgId: org.id,
    name: `${name} Viewer`,
    permissions: ['integration:attributeRelay:view'],
  });
  const nobody = emu.createUser({
    orgId: org.id,
    name: `${name} Agent`,
    permissions: ['conversation:communication:view'],
  });
  const grant = emu.createClient({
    orgId: org.id,
    name: 'given grant',
    permissions: ['conversation:communication:view'],
  });
  return {
    orgId: org.id,
    name,
    admin: emu.createUserToken(admin.id),
    viewer: emu.createUserToken(viewer.id),
    nobody: emu.createUserToken(nobody.id),
    adminUserId: admin.id,
    grant: { clientId: grant.id, clientSecret: grant.secret },
  };
}

export const ENV = 'mypurecloud.com';

export async function install(
  world: World,
  org: SeededOrg,
  mode: 'given' | 'provisioned' = 'given',
): Promise<Response> {
  const body = mode === 'given' ? { environment: ENV, ...org.grant } : { environment: ENV };
  return world.call('POST', '/v1/install', { token: org.admin, body });
}

/** An admin (or viewer) session of our own for the given user token. */
export async function session(world: World, userToken: string): Promise<string> {
  const res = await world.call('POST', '/v1/session', { token: userToken, body: { environment: ENV } });
  if (res.status !== 200) throw new Error(`session: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** Rows of the org in every table that has an org_id column (either backend's own tables). */
export async function rowsPerTable(app: TestApp, orgId: string): Promise<Record<string, number>> {
  // Every table with whether it has org_id: SQLite's catalog, or PostgreSQL's public schema
  // (drizzle keeps its migrations in a schema of its own there).
  const tables = await app.all<{ name: string; tenant: number | boolean }>(
    app.backend === 'postgres'
      ? `select t.table_name as name, exists (select 1 from information_schema.columns c
           where c.table_schema = 'public' and c.table_name = t.table_name and c.column_name = 'org_id') as tenant
         from information_schema.tables t
         where t.table_schema = 'public' and t.table_type = 'BASE TABLE' and t.table_name not like '\\_\\_%'
         order by t.table_name`
      : `select m.name as name, exists (select 1 from pragma_table_info(m.name) c where c.name = 'org_id') as tenant
         from sqlite_master m
         where m.type = 'table' and m.name not like '\\_\\_%' escape '\\' and m.name not like 'sqlite_%'
         order by m.name`,
  );
  const out: Record<string, number> = {};
  for (const { name, tenant } of tables) {
    if ((SHARED_TABLES as readonly string[]).includes(name)) continue;
    if (!tenant) throw new Error(`table ${name} has no org_id: tenant tables must`);
    const [row] = await app.all<{ n: number | string }>(
      `select count(*) as n from ${name} where org_id = ?`,
      orgId,
    );
    // PostgreSQL's count(*) is a bigint: a number here too.
    out[name] = Number(row!.n);
  }
  return out;
}

/**
 * Every tenant table's row count for the org equals `expected` (tables not named: 0). New tables
 * are counted without touching the tests that call this.
 */
export async function expectRows(
  app: TestApp,
  orgId: string,
  expected: Record<string, number>,
): Promise<void> {
  const actual = await rowsPerTable(app, orgId);
  for (const name of Object.keys(expected)) if (!(name in actual)) throw new Error(`no table ${name}`);
  const want = Object.fromEntries(Object.keys(actual).map((k) => [k, expected[k] ?? 0]));
  if (JSON.stringify(actual) !== JSON.stringify(want)) {
    throw new Error(`rows of ${orgId}: expected ${JSON.stringify(want)}, got ${JSON.stringify(actual)}`);
  }
}

export interface InstalledOrg {
  org: SeededOrg;
  /** Our own sessions for the org's admin and viewer. */
  admin: string;
  viewer: string;
  /** A standard-webhooks source of the org. */
  source: { id: string; secret: string };
}

/** A seeded org, installed, with admin and viewer sessions and one standard-webhooks source. */
export async function installedOrg(world: World, name: string): Promise<InstalledOrg> {
  const org = seedOrg(world, name);
  const res = await install(world, org);
  if (res.status !== 201) throw new Error(`install: ${res.status} ${await res.text()}`);
  const admin = await session(world, org.admin);
  const created = await world.call('POST', '/v1/sources', {
    token: admin,
    body: { name: `${name} webhooks`, auth: 'standard-webhooks' },
  });
  if (created.status !== 201) throw new Error(`source: ${created.status} ${await created.text()}`);
  const source = (await created.json()) as { id: string; secret: string };
  return { org, admin, viewer: await session(world, org.viewer), source };
}

/** A standard-webhooks source of the session's org, with its secret (shown once). */
export async function createSource(world: World, token: string): Promise<{ id: string; secret: string }> {
  const res = await world.call('POST', '/v1/sources', {
    token,
    body: { name: 'CRM', auth: 'standard-webhooks' },
  });
  if (res.status !== 201) throw new Error(`POST /v1/sources: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; secret: string };
}
