import { afterEach, describe, expect, it } from 'vitest';
import { CHUNK_ROWS, sqliteAuditStaging } from '../../src/audit/staging-store.js';
import { preparedAuditAppend } from '../../src/audit/store.js';
import type { AuditEntry } from '../../src/audit/types.js';
import { openDatabase, type RelayDatabase } from '../../src/db/client.js';
import { sqliteStorage } from '../../src/db/sqlite-stores.js';
import type { Storage, Stores } from '../../src/db/stores.js';
import { createLogger } from '../../src/lib/logger.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/until.js';

/**
 * SQLite's hot paths stage their audit rows (src/audit/staging-store.ts): the rows must reach
 * audit_log on their own, be seen by every read before they do, and survive a crash or a stop.
 */
const ingest = { dedupWindowMs: 60_000, onAccepted: () => {} };
const HOUR = 3_600_000;
const entry = (orgId: string, i: number): AuditEntry => ({
  orgId,
  at: Date.now(),
  kind: 'event.received',
  actor: { type: 'source', id: 'src_1' },
  sourceId: 'src_1',
  eventId: `evt_${orgId}_${i}`,
  outcome: 'accepted',
  detail: { i },
});

let dir: ReturnType<typeof tempDir>;
const opened: RelayDatabase[] = [];
const open = (): RelayDatabase => {
  const database = openDatabase(`${dir.path}/relay.sqlite`);
  database.migrate();
  opened.push(database);
  return database;
};
const count = (database: RelayDatabase, table: 'audit_staged' | 'audit_log', orgId?: string) =>
  database.sqlite
    .prepare(`select count(*) from ${table}${orgId ? ' where org_id = ?' : ''}`)
    .pluck()
    .get(...(orgId ? [orgId] : [])) as number;
/** Stages `n` rows per org through the hot paths' append, as ingest and settles do. */
const stage = (database: RelayDatabase, orgs: string[], n: number) => {
  const append = preparedAuditAppend(database.sqlite);
  database.sqlite.transaction(() => {
    for (let i = 0; i < n; i++) for (const org of orgs) append(entry(org, i));
  })();
};
const storesOn = (database: RelayDatabase, auditMoveEveryMs = HOUR): [Storage, Stores] => {
  const storage = sqliteStorage(database, { auditMoveEveryMs });
  return [storage, storage.stores(ingest)];
};

afterEach(() => {
  for (const d of opened.splice(0)) d.close();
  dir?.cleanup();
});

describe('audit rows staged by the hot paths (SQLite)', () => {
  it('are listed by the audit store before they are moved, and moved by that read', async () => {
    dir = tempDir('relay-staging');
    const database = open();
    const [, stores] = storesOn(database);
    stage(database, ['org-a', 'org-b'], 3);
    expect(count(database, 'audit_staged')).toBe(6);
    expect(count(database, 'audit_log')).toBe(0);

    const { items } = await stores.audit.list('org-a', { limit: 100 });
    expect(items.map((i) => i.eventId)).toEqual(['evt_org-a_2', 'evt_org-a_1', 'evt_org-a_0']);
    expect(count(database, 'audit_staged')).toBe(0);
    expect(count(database, 'audit_log')).toBe(6);
    expect(await stores.auditChain.chainPage('org-b', 0, 10)).toHaveLength(3);
  });

  it('move into audit_log on their own, every row once with its place in the chain', async () => {
    dir = tempDir('relay-staging');
    const database = open();
    stage(database, ['org-a', 'org-b', 'org-c'], Math.ceil(CHUNK_ROWS / 3) + 1); // more than one chunk
    const before = database.sqlite
      .prepare('select id, org_id, seq, hash from audit_staged order by id')
      .all();
    storesOn(database, 10);
    await until(() => count(database, 'audit_staged') === 0, 'the staged rows to move', 10_000);
    expect(database.sqlite.prepare('select id, org_id, seq, hash from audit_log order by id').all()).toEqual(
      before,
    );
  });

  it('stay staged when a move fails, which is reported, and move on the next pass', async () => {
    dir = tempDir('relay-staging');
    const database = open();
    stage(database, ['org-a'], 3);
    database.sqlite.exec(
      "create trigger refuse before insert on audit_log begin select raise(abort, 'disk is full'); end",
    );
    const errors: unknown[] = [];
    const staging = sqliteAuditStaging(database.sqlite, { everyMs: 10, onError: (err) => errors.push(err) });
    staging.start();
    try {
      await until(() => errors.length > 0, 'a failed move to be reported');
      expect(String(errors[0])).toMatch(/disk is full/);
      expect(count(database, 'audit_staged')).toBe(3);
      database.sqlite.exec('drop trigger refuse');
      await until(() => count(database, 'audit_staged') === 0, 'the next pass to move the rows');
      expect(count(database, 'audit_log')).toBe(3);
    } finally {
      staging.stop();
    }
  });

  it('that a stopped server left are moved before its database closes', async () => {
    dir = tempDir('relay-staging');
    const database = open();
    const [storage] = storesOn(database);
    stage(database, ['org-a'], 5);
    await storage.close();
    const again = open();
    expect(count(again, 'audit_staged')).toBe(0);
    expect(count(again, 'audit_log')).toBe(5);
  });

  it('stay staged when a stopping server cannot move them, and the database still closes', async () => {
    dir = tempDir('relay-staging');
    const database = open();
    const errors: unknown[] = [];
    const storage = sqliteStorage(database, {
      auditMoveEveryMs: HOUR,
      logger: { ...createLogger('error', () => {}), warn: (_msg, fields) => errors.push(fields?.err) },
    });
    storage.stores(ingest);
    stage(database, ['org-a'], 2);
    database.sqlite.exec(
      "create trigger refuse before insert on audit_log begin select raise(abort, 'disk is full'); end",
    );
    await storage.close();
    expect(database.sqlite.open).toBe(false);
    expect(String(errors[0])).toMatch(/disk is full/);
    expect(count(open(), 'audit_staged')).toBe(2);
  });

  it('that a killed process left are read, and moved, by the next one', async () => {
    dir = tempDir('relay-staging');
    const killed = open();
    storesOn(killed);
    stage(killed, ['org-a'], CHUNK_ROWS + 1); // moved a chunk a transaction
    killed.close(); // no stop: what kill -9 leaves
    const next = open();
    expect(count(next, 'audit_staged')).toBe(CHUNK_ROWS + 1);
    const [, stores] = storesOn(next);
    expect((await stores.audit.list('org-a', { limit: 2 })).items.map((i) => i.detail)).toEqual([
      { i: CHUNK_ROWS },
      { i: CHUNK_ROWS - 1 },
    ]);
    expect(count(next, 'audit_staged')).toBe(0);
    expect(count(next, 'audit_log')).toBe(CHUNK_ROWS + 1);
  });

  it('of an uninstalled org go with its other rows; other orgs keep theirs', async () => {
    dir = tempDir('relay-staging');
    const database = open();
    const [, stores] = storesOn(database);
    stage(database, ['org-a', 'org-b'], 3);
    await stores.tenants.uninstall('org-a', {
      orgId: 'org-a',
      at: Date.now(),
      kind: 'tenant.uninstalled',
      actor: { type: 'user', id: 'u1', name: 'Admin' },
    });
    expect(count(database, 'audit_staged', 'org-a')).toBe(0);
    expect((await stores.audit.list('org-b', { limit: 100 })).items).toHaveLength(3);
    expect((await stores.audit.list('org-a', { limit: 100 })).items.map((i) => i.kind)).toEqual([
      'tenant.uninstalled',
    ]);
  });
});
