import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditPg } from '../../src/audit/pg-store.js';
import { appendAudit } from '../../src/audit/store.js';
import type { AuditEntry } from '../../src/audit/types.js';
import { pgTenantStore } from '../../src/tenants/pg-store.js';
import { type NewTenant, sqliteTenantStore, type TenantStore } from '../../src/tenants/store.js';
import { backends, type OnBackend } from './backends.js';

const T0 = Date.parse('2026-11-25T12:00:00Z');
const admin = { type: 'user' as const, id: 'u1', name: 'Ada' };
const audit = (orgId: string, kind: AuditEntry['kind'], at = T0): AuditEntry => ({
  orgId,
  at,
  kind,
  actor: admin,
  detail: { kind },
});
const newTenant = (orgId: string): NewTenant => ({
  orgId,
  orgName: `Org ${orgId}`,
  environment: 'mypurecloud.com',
  installedAt: T0,
  grant: { clientId: 'client-1', secretSealed: 'jwe-1', managed: true, managedRoleId: 'role-1' },
});

/** The store, and an audit append of the backend's own (another writer of the same chain). */
type Tenants = TenantStore & { append(entry: AuditEntry): Promise<void> };

describe.each(
  backends<Tenants>(
    (d) =>
      Object.assign(sqliteTenantStore(d.db), {
        append: async (e: AuditEntry) => {
          d.db.transaction((tx) => appendAudit(tx, e));
        },
      }),
    (d) =>
      Object.assign(pgTenantStore(d.db), {
        append: async (e: AuditEntry) => {
          await d.db.transaction((tx) => appendAuditPg(tx, e));
        },
      }),
  ),
)('TenantStore on %s', (_name, open) => {
  let b: OnBackend<Tenants>;
  beforeAll(async () => {
    b = await open();
  });
  afterAll(() => b?.close());

  const kinds = async (orgId: string) =>
    (await b.all<{ kind: string }>('select kind from audit_log where org_id = ? order by seq', orgId)).map(
      (r) => r.kind,
    );

  it('installs once: the second install writes nothing and returns false', async () => {
    const store = b.store;
    expect(await store.install(newTenant('org-a'), audit('org-a', 'tenant.installed'))).toBe(true);
    expect(
      await store.install(
        { ...newTenant('org-a'), orgName: 'Other' },
        audit('org-a', 'tenant.installed', T0 + 1),
      ),
    ).toBe(false);
    expect(await kinds('org-a')).toEqual(['tenant.installed']);
    expect(await store.get('org-a')).toEqual({
      orgId: 'org-a',
      orgName: 'Org org-a',
      environment: 'mypurecloud.com',
      installedAt: T0,
      settings: {
        requestsPerMinute: 300,
        auditRetentionDays: 90,
        endedParticipants: 'skip',
        maxAttributeValueLength: 2000,
      },
      grant: {
        clientId: 'client-1',
        secretSealed: 'jwe-1',
        managed: true,
        managedRoleId: 'role-1',
        status: 'ok',
        lastTokenAt: T0,
        lastError: null,
        divisions: null,
      },
      license: { status: 'licensed', checkedAt: null },
    });
    expect(await store.get('org-missing')).toBeUndefined();
  });

  it('updates settings with a tenant.updated row, and records grant health without one', async () => {
    const store = b.store;
    await store.install(newTenant('org-s'), audit('org-s', 'tenant.installed'));
    await store.updateSettings(
      'org-s',
      { requestsPerMinute: 120, endedParticipants: 'patch-until-conversation-ends' },
      audit('org-s', 'tenant.updated', T0 + 5),
    );
    await store.recordGrantHealth('org-s', { status: 'unreachable', lastError: 'ETIMEDOUT' });
    const t = await store.get('org-s');
    expect(t?.settings).toEqual({
      requestsPerMinute: 120,
      auditRetentionDays: 90,
      endedParticipants: 'patch-until-conversation-ends',
      maxAttributeValueLength: 2000,
    });
    expect(t?.grant).toMatchObject({ status: 'unreachable', lastError: 'ETIMEDOUT', lastTokenAt: T0 });
    await store.recordGrantHealth('org-s', { status: 'ok', lastTokenAt: T0 + 9, lastError: null });
    expect((await store.get('org-s'))?.grant).toMatchObject({
      status: 'ok',
      lastError: null,
      lastTokenAt: T0 + 9,
    });
    expect(await kinds('org-s')).toEqual(['tenant.installed', 'tenant.updated']);
    const [row] = await b.all<{ updated_at: unknown }>(
      'select updated_at from tenants where org_id = ?',
      'org-s',
    );
    expect(Number(row?.updated_at)).toBe(T0 + 5);
  });

  it('replaces the grant: status ok, error cleared, divisions unknown unless given', async () => {
    const store = b.store;
    await store.install(
      { ...newTenant('org-g'), divisions: { checkedAt: T0, total: 3, missing: [] } },
      audit('org-g', 'tenant.installed'),
    );
    expect((await store.get('org-g'))?.grant.divisions).toEqual({ checkedAt: T0, total: 3, missing: [] });
    await store.recordGrantHealth('org-g', { status: 'invalid_credentials', lastError: 'bad secret' });
    await store.replaceGrant(
      'org-g',
      { clientId: 'client-2', secretSealed: 'jwe-2', managed: false, managedRoleId: null },
      audit('org-g', 'grant.updated', T0 + 10),
    );
    expect((await store.get('org-g'))?.grant).toEqual({
      clientId: 'client-2',
      secretSealed: 'jwe-2',
      managed: false,
      managedRoleId: null,
      status: 'ok',
      lastTokenAt: T0 + 10,
      lastError: null,
      divisions: null,
    });
    const coverage = { checkedAt: T0 + 20, total: 2, missing: [{ id: 'd2', name: 'Sales' }] };
    await store.replaceGrant(
      'org-g',
      {
        clientId: 'client-3',
        secretSealed: 'jwe-3',
        managed: false,
        managedRoleId: null,
        divisions: coverage,
      },
      audit('org-g', 'grant.updated', T0 + 20),
    );
    expect((await store.get('org-g'))?.grant.divisions).toEqual(coverage);
    expect(await kinds('org-g')).toEqual(['tenant.installed', 'grant.updated', 'grant.updated']);
  });

  it('records divisions and licences, with an audit row only when given one', async () => {
    const store = b.store;
    await store.install(newTenant('org-l1'), audit('org-l1', 'tenant.installed'));
    await store.install(newTenant('org-l2'), audit('org-l2', 'tenant.installed'));
    const coverage = { checkedAt: T0 + 1, total: 4, missing: [{ id: 'd9', name: null }] };
    await store.recordDivisions('org-l1', coverage);
    await store.recordDivisions(
      'org-l1',
      { ...coverage, checkedAt: T0 + 2 },
      audit('org-l1', 'grant.updated'),
    );
    expect((await store.get('org-l1'))?.grant.divisions).toEqual({ ...coverage, checkedAt: T0 + 2 });

    await store.recordLicense('org-l1', 'licensed', T0 + 100);
    await store.recordLicense('org-l2', 'unlicensed', T0 + 100, audit('org-l2', 'tenant.unlicensed'));
    expect((await store.get('org-l2'))?.license).toEqual({ status: 'unlicensed', checkedAt: T0 + 100 });
    expect(await store.unlicensed()).toContain('org-l2');
    expect(await store.unlicensed()).not.toContain('org-l1');
    const due = await store.licenseDue(T0 + 101);
    expect(due).toEqual(expect.arrayContaining(['org-l1', 'org-l2']));
    expect(await store.licenseDue(T0 + 100)).not.toEqual(expect.arrayContaining(['org-l1']));
    expect(await kinds('org-l1')).toEqual(['tenant.installed', 'grant.updated']);
    expect(await kinds('org-l2')).toEqual(['tenant.installed', 'tenant.unlicensed']);
  });

  it('uninstall purges every org table and leaves one tenant.uninstalled row; other orgs keep theirs', async () => {
    const store = b.store;
    for (const org of ['org-u', 'org-keep']) {
      await store.install(newTenant(org), audit(org, 'tenant.installed'));
      await store.updateSettings(org, { auditRetentionDays: 30 }, audit(org, 'tenant.updated'));
      await b.run(
        `insert into sources (id, org_id, name, auth, secret_sealed, created_at) values (?, ?, 'S', 'bearer', 'x', ?)`,
        `src_${org}`,
        org,
        T0,
      );
      await b.run(
        `insert into rules (id, org_id, current_version, created_at, updated_at) values (?, ?, 1, ?, ?)`,
        `rule_${org}`,
        org,
        T0,
        T0,
      );
      await b.run(
        `insert into audit_checkpoints (org_id, seq, hash, at, signature, kid) values (?, 2, 'h', ?, 'sig', 'k1')`,
        org,
        T0,
      );
    }
    await store.uninstall('org-u', audit('org-u', 'tenant.uninstalled', T0 + 50));
    expect(await store.get('org-u')).toBeUndefined();
    const rows = await b.all<{ kind: string; seq: unknown }>(
      'select kind, seq from audit_log where org_id = ?',
      'org-u',
    );
    // The chain's head went with the purge: the row that stays starts a chain of its own.
    expect(rows.map((r) => [r.kind, Number(r.seq)])).toEqual([['tenant.uninstalled', 1]]);
    for (const table of ['sources', 'rules', 'audit_checkpoints']) {
      const left = await b.all(`select 1 from ${table} where org_id = ?`, 'org-u');
      expect(left, table).toEqual([]);
      expect(await b.all(`select 1 from ${table} where org_id = ?`, 'org-keep'), table).toHaveLength(1);
    }
    expect(await kinds('org-keep')).toEqual(['tenant.installed', 'tenant.updated']);
    expect((await store.get('org-keep'))?.settings.auditRetentionDays).toBe(30);
  });

  it('two installs of one org at once: exactly one writes, with one audit row', async () => {
    const results = await Promise.all(
      [1, 2].map((n) =>
        b.store.install(newTenant('org-race'), audit('org-race', 'tenant.installed', T0 + n)),
      ),
    );
    expect(results.sort()).toEqual([false, true]);
    expect(await kinds('org-race')).toEqual(['tenant.installed']);
  });

  it('uninstall amid other writers of the org chain: no deadlock, no fork, one chain from seq 1', async () => {
    const org = 'org-busy';
    await b.store.install(newTenant(org), audit(org, 'tenant.installed'));
    for (let i = 0; i < 5; i++) await b.store.append(audit(org, 'patch.applied', T0 + i));
    await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => b.store.append(audit(org, 'patch.applied', T0 + 10 + i))),
      b.store.uninstall(org, audit(org, 'tenant.uninstalled', T0 + 20)),
      ...Array.from({ length: 8 }, (_, i) => b.store.append(audit(org, 'patch.applied', T0 + 30 + i))),
    ]);
    const rows = await b.all<{ kind: string; seq: unknown }>(
      'select kind, seq from audit_log where org_id = ? order by seq',
      org,
    );
    // Appends that ran after the purge chain on from its row; those before it were purged.
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
    expect(rows[0]?.kind).toBe('tenant.uninstalled');
    const [head] = await b.all<{ seq: unknown }>('select seq from audit_heads where org_id = ?', org);
    expect(Number(head?.seq)).toBe(rows.length);
  });
});
