import { eq, isNull, lt, or } from 'drizzle-orm';
import { appendAudit } from '../audit/store.js';
import type { AuditEntry } from '../audit/types.js';
import type { Db } from '../db/client.js';
import { ORG_TABLES, tenants } from '../db/schema.js';
import type { DivisionCoverage } from './division-coverage.js';

export type GrantStatus = 'ok' | 'invalid_credentials' | 'wrong_org' | 'unreachable';

export interface Grant {
  clientId: string;
  /** JWE from `crypto/secrets.ts`, sealed to this org. */
  secretSealed: string;
  /** We created the OAuth client (and `managedRoleId`) at install. */
  managed: boolean;
  managedRoleId: string | null;
  /** On a write: what is known of the new grant's divisions (else it is read again later). */
  divisions?: DivisionCoverage | null;
}

export interface Tenant {
  orgId: string;
  orgName: string;
  environment: string;
  installedAt: number;
  settings: {
    requestsPerMinute: number;
    auditRetentionDays: number;
    endedParticipants: 'skip' | 'patch-until-conversation-ends';
    maxAttributeValueLength: number;
  };
  grant: Grant & {
    status: GrantStatus;
    lastTokenAt: number | null;
    lastError: string | null;
    /** Null until first read (install, sign-in, a refused delivery). */
    divisions: DivisionCoverage | null;
  };
  license: { status: LicenseStatus; checkedAt: number | null };
}

export type LicenseStatus = 'licensed' | 'unlicensed';

export interface NewTenant {
  orgId: string;
  orgName: string;
  environment: string;
  installedAt: number;
  grant: Grant;
  /** Known at install when we granted the role in every division ourselves. */
  divisions?: DivisionCoverage;
}

/**
 * Tenants and their grants. Each write that an admin makes is recorded in the audit log in the
 * same transaction. Methods are async so a PostgreSQL backend can implement the same interface.
 */
export interface TenantStore {
  get(orgId: string): Promise<Tenant | undefined>;
  /** Inserts unless the org exists; `false` when it already did (nothing written). */
  install(tenant: NewTenant, audit: AuditEntry): Promise<boolean>;
  updateSettings(orgId: string, settings: Partial<Tenant['settings']>, audit: AuditEntry): Promise<void>;
  replaceGrant(orgId: string, grant: Grant, audit: AuditEntry): Promise<void>;
  /** Grant health, after every token request of the org. */
  recordGrantHealth(
    orgId: string,
    health: { status: GrantStatus; lastTokenAt?: number; lastError: string | null },
  ): Promise<void>;
  /** The grant's division coverage, as last read (with `audit` when an admin changed it). */
  recordDivisions(orgId: string, coverage: DivisionCoverage, audit?: AuditEntry): Promise<void>;
  /** What the last licence check found; `audit` only when the status changed. */
  recordLicense(orgId: string, status: LicenseStatus, checkedAt: number, audit?: AuditEntry): Promise<void>;
  /** Orgs whose product is gone (ingest refuses them, delivery pauses them). */
  unlicensed(): Promise<string[]>;
  /** Orgs whose licence was last read before `before` (or never). */
  licenseDue(before: number): Promise<string[]>;
  /** Deletes every row of the org in every table, then writes the one audit row that stays. */
  uninstall(orgId: string, audit: AuditEntry): Promise<void>;
}

export function sqliteTenantStore(db: Db): TenantStore {
  return {
    async get(orgId) {
      const row = db.select().from(tenants).where(eq(tenants.orgId, orgId)).get();
      return row ? toTenant(row) : undefined;
    },
    async install(t, audit) {
      return db.transaction((tx) => {
        const inserted = tx
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
          .returning({ orgId: tenants.orgId })
          .all();
        if (inserted.length === 0) return false;
        appendAudit(tx, audit);
        return true;
      });
    },
    async updateSettings(orgId, settings, audit) {
      db.transaction((tx) => {
        tx.update(tenants)
          .set({ ...settings, updatedAt: audit.at })
          .where(eq(tenants.orgId, orgId))
          .run();
        appendAudit(tx, audit);
      });
    },
    async replaceGrant(orgId, grant, audit) {
      db.transaction((tx) => {
        tx.update(tenants)
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
          .where(eq(tenants.orgId, orgId))
          .run();
        appendAudit(tx, audit);
      });
    },
    async recordGrantHealth(orgId, h) {
      db.update(tenants)
        .set({
          grantStatus: h.status,
          grantLastError: h.lastError,
          ...(h.lastTokenAt !== undefined ? { grantLastTokenAt: h.lastTokenAt } : {}),
        })
        .where(eq(tenants.orgId, orgId))
        .run();
    },
    async recordDivisions(orgId, coverage, audit) {
      db.transaction((tx) => {
        tx.update(tenants).set({ grantDivisions: coverage }).where(eq(tenants.orgId, orgId)).run();
        if (audit) appendAudit(tx, audit);
      });
    },
    async recordLicense(orgId, status, checkedAt, audit) {
      db.transaction((tx) => {
        tx.update(tenants)
          .set({ licenseStatus: status, licenseCheckedAt: checkedAt })
          .where(eq(tenants.orgId, orgId))
          .run();
        if (audit) appendAudit(tx, audit);
      });
    },
    async unlicensed() {
      return db
        .select({ orgId: tenants.orgId })
        .from(tenants)
        .where(eq(tenants.licenseStatus, 'unlicensed'))
        .all()
        .map((r) => r.orgId);
    },
    async licenseDue(before) {
      return db
        .select({ orgId: tenants.orgId })
        .from(tenants)
        .where(or(isNull(tenants.licenseCheckedAt), lt(tenants.licenseCheckedAt, before)))
        .all()
        .map((r) => r.orgId);
    },
    async uninstall(orgId, audit) {
      db.transaction((tx) => {
        for (const { table, orgId: column } of ORG_TABLES) tx.delete(table).where(eq(column, orgId)).run();
        appendAudit(tx, audit);
      });
    },
  };
}

/** A row as either backend reads it, as the stores hand it out. */
export function toTenant(r: typeof tenants.$inferSelect): Tenant {
  return {
    orgId: r.orgId,
    orgName: r.orgName,
    environment: r.environment,
    installedAt: r.installedAt,
    settings: {
      requestsPerMinute: r.requestsPerMinute,
      auditRetentionDays: r.auditRetentionDays,
      endedParticipants: r.endedParticipants,
      maxAttributeValueLength: r.maxAttributeValueLength,
    },
    grant: {
      clientId: r.grantClientId,
      secretSealed: r.grantSecretSealed,
      managed: r.grantManaged,
      managedRoleId: r.managedRoleId,
      status: r.grantStatus,
      lastTokenAt: r.grantLastTokenAt,
      lastError: r.grantLastError,
      divisions: r.grantDivisions ?? null,
    },
    license: { status: r.licenseStatus, checkedAt: r.licenseCheckedAt },
  };
}
