import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { install, type SeededOrg, seedOrg, session, startWorld, type World } from '../helpers/world.js';

/**
 * No client secret, access token or master key in clear in the SQLite file, its WAL, or the
 * logs: the bytes are scanned after installs in both modes, token fetches and admin calls.
 */
let world: World;
let given: SeededOrg;
let provisioned: SeededOrg;
const secrets: Record<string, string> = {};

beforeAll(async () => {
  world = await startWorld();
  given = seedOrg(world, 'Given');
  provisioned = seedOrg(world, 'Provisioned');
  expect((await install(world, given, 'given')).status).toBe(201);
  expect((await install(world, provisioned, 'provisioned')).status).toBe(201);
  const conv = world.emu.createConversation({
    orgId: provisioned.orgId,
    participants: [{ purpose: 'customer' }],
  });
  for (const org of [given, provisioned]) {
    expect((await world.app.deps.genesys.forOrg(org.orgId).organizationsMe()).kind).toBe('ok');
    const cached = await world.app.deps.genesys.tokens.get(org.orgId);
    if ('kind' in cached) throw new Error('no token');
    secrets[`${org.name} access token`] = cached.token;
    const row = world.app.database.sqlite
      .prepare('select grant_secret_sealed as s from tenants where org_id = ?')
      .get(org.orgId) as { s: string };
    secrets[`${org.name} client secret`] = await world.app.deps.sealer.open(org.orgId, row.s);
    secrets[`${org.name} user token`] = org.admin;
    const token = await session(world, org.admin);
    await world.call('GET', '/v1/tenant', { token });
    await world.call('PATCH', '/v1/tenant', { token, body: { settings: { requestsPerMinute: 200 } } });
  }
  await world.app.deps.genesys.forOrg(provisioned.orgId).getConversation(conv.id);
  secrets['master key (base64url)'] = world.app.masterKey;
  secrets['master key (hex)'] = Buffer.from(world.app.masterKey, 'base64url').toString('hex');
  secrets['master key (base64)'] = Buffer.from(world.app.masterKey, 'base64url').toString('base64');
});
afterAll(() => world.close());

describe('secrets at rest', () => {
  it('the grants really are stored (and the scan below would see them)', () => {
    expect(secrets['Given client secret']).toBe(given.grant.clientSecret);
    expect(secrets['Provisioned client secret']?.length).toBeGreaterThan(10);
  });

  function scan(file: string) {
    const path = world.app.dbPath.replace(/relay\.sqlite$/, file);
    expect(existsSync(path)).toBe(true);
    const bytes = readFileSync(path);
    // The scan can see text: the org names are in there.
    expect(bytes.includes(Buffer.from('Provisioned')), `no tenant data in ${file}`).toBe(true);
    for (const [name, value] of Object.entries(secrets)) {
      expect(bytes.includes(Buffer.from(value)), `${name} found in ${file}`).toBe(false);
    }
    expect(bytes.includes(Buffer.from(world.app.masterKey, 'base64url')), 'raw master key').toBe(false);
  }

  it('the WAL, then the database file after a checkpoint, hold none of them in clear', () => {
    scan('relay.sqlite-wal');
    world.app.database.sqlite.pragma('wal_checkpoint(PASSIVE)');
    scan('relay.sqlite');
  });

  it('the logs hold none of them', () => {
    const logs = world.app.logs.join('');
    expect(logs.length).toBeGreaterThan(0);
    for (const [name, value] of Object.entries(secrets))
      expect(logs.includes(value), `${name} in logs`).toBe(false);
  });
});
