import { divisionAdvice } from './division-coverage.js';
import type { Role } from './permissions.js';
import type { Tenant } from './store.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The contract's tenant summary. Never a secret. */
export interface DeliveryView {
  pending: number;
  oldestPendingAgeMs: number | null;
  lastAppliedAt: string | null;
  lastRateLimitedAt: string | null;
}

const IDLE: DeliveryView = {
  pending: 0,
  oldestPendingAgeMs: null,
  lastAppliedAt: null,
  lastRateLimitedAt: null,
};

export function tenantView(t: Tenant, role: Role, delivery: DeliveryView = IDLE) {
  return {
    orgId: t.orgId,
    orgName: t.orgName,
    environment: t.environment,
    installedAt: new Date(t.installedAt).toISOString(),
    role,
    settings: { ...t.settings },
    grant: {
      clientId: t.grant.clientId,
      managed: t.grant.managed,
      status: t.grant.status,
      lastTokenAt: iso(t.grant.lastTokenAt),
      lastError: t.grant.lastError,
      divisions: t.grant.divisions
        ? {
            checkedAt: new Date(t.grant.divisions.checkedAt).toISOString(),
            total: t.grant.divisions.total,
            missing: t.grant.divisions.missing,
            advice:
              t.grant.divisions.missing.length > 0
                ? divisionAdvice(t.grant.divisions.missing, t.grant.managed)
                : null,
          }
        : null,
    },
    license: { status: t.license.status, checkedAt: iso(t.license.checkedAt) },
    delivery,
  };
}
export type TenantView = ReturnType<typeof tenantView>;
