import { eq, isNull, lt, or } from 'drizzle-orm';
import { appendAuditPg, lockAuditChain } from '../audit/pg-store.js';
import type { PgDb } from '../db/pg/client.js';
import { ORG_TABLES, tenants } from '../db/pg/schema.js';
import { type TenantStore, toTenant } from './store.js';

/** The PostgreSQL twin of `sqliteTenantStore`: the same writes, each with its audit row in one transaction. */
export function pgTenantStore(db: PgDb): TenantStore {
  return {
    async get(orgId) {
      const [row] = await db.select().from(tenants).where(eq(tenants.orgId, orgId));
      return row ? toTenant(row) : undefined;
    },
    async install(t, audit) {
      return db.transaction(async (tx) => {
        const inserted = await tx
          .insert(tenants)
          .values({
            orgId: t.orgId,
            orgName: t.orgName,
            environment: t.environment,
            installedAt: t.installedAt,
            updatedAt: t.installedAt,
            grantClientId: t.grant.clientId,
            grantSecretSealed: t.grant.secretSealed,
            grantManaged: t.grant.managed,
            managedRoleId: t.grant.managedRoleId,
            grantStatus: 'ok',
            grantLastTokenAt: t.installedAt,
            grantDivisions: t.divisions ?? null,
          })
          .onConflictDoNothing()
          .returning({ orgId: tenants.orgId });
        if (inserted.length === 0) return false;
        await appendAuditPg(tx, audit);
        return true;
      });
    },
    async updateSettings(orgId, settings, audit) {
      await db.transaction(async (tx) => {
        await tx
          .update(tenants)
          .set({ ...settings, updatedAt: audit.at })
          .where(eq(tenants.orgId, orgId));
        await appendAuditPg(tx, audit);
      });
    },
    async replaceGrant(orgId, grant, audit) {
      await db.transaction(async (tx) => {
        await tx
          .update(tenants)
          .set({
            grantClientId: grant.clientId,
            grantSecretSealed: grant.secretSealed,
            grantManaged: grant.managed,
            managedRoleId: grant.managedRoleId,
            grantStatus: 'ok',
            grantLastTokenAt: audit.at,
            grantLastError: null,
            // Another client, other roles: unknown until read again.
            grantDivisions: grant.divisions ?? null,
            updatedAt: audit.at,
          })
          .where(eq(tenants.orgId, orgId));
        await appendAuditPg(tx, audit);
      });
    },
    async recordGrantHealth(orgId, h) {
      await db
        .update(tenants)
        .set({
          grantStatus: h.status,
          grantLastError: h.lastError,
          ...(h.lastTokenAt !== undefined ? { grantLastTokenAt: h.lastTokenAt } : {}),
        })
        .where(eq(tenants.orgId, orgId));
    },
    async recordDivisions(orgId, coverage, audit) {
      await db.transaction(async (tx) => {
        await tx.update(tenants).set({ grantDivisions: coverage }).where(eq(tenants.orgId, orgId));
        if (audit) await appendAuditPg(tx, audit);
      });
    },
    async recordLicense(orgId, status, checkedAt, audit) {
      await db.transaction(async (tx) => {
        await tx
          .update(tenants)
          .set({ licenseStatus: status, licenseCheckedAt: checkedAt })
          .where(eq(tenants.orgId, orgId));
        if (audit) await appendAuditPg(tx, audit);
      });
    },
    async unlicensed() {
      const rows = await db
        .select({ orgId: tenants.orgId })
        .from(tenants)
        .where(eq(tenants.licenseStatus, 'unlicensed'));
      return rows.map((r) => r.orgId);
    },
    async licenseDue(before) {
      const rows = await db
        .select({ orgId: tenants.orgId })
        .from(tenants)
        .where(or(isNull(tenants.licenseCheckedAt), lt(tenants.licenseCheckedAt, before)));
      return rows.map((r) => r.orgId);
    },
    async uninstall(orgId, audit) {
      await db.transaction(async (tx) => {
        // Before any row: another instance's append must not hold the chain while we hold its head.
        await lockAuditChain(tx, orgId);
        for (const { table, orgId: column } of ORG_TABLES) await tx.delete(table).where(eq(column, orgId));
        await appendAuditPg(tx, audit);
      });
    },
  };
}
