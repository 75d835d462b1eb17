import type { Actor } from '../audit/types.js';
import type { Role } from '../tenants/permissions.js';
import type { Tenant } from '../tenants/store.js';

/**
 * One per admin request: whose org, who acts and with which role, when, and the request id.
 * Every verb takes it; every store query it leads to is scoped to `tenant.orgId`.
 */
export interface RequestContext {
  readonly tenant: Tenant;
  readonly actor: Extract<Actor, { type: 'user' }>;
  readonly role: Role;
  readonly now: number;
  readonly requestId: string;
}
