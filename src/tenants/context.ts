import type { Actor } from '../audit/types.js';
import type { Role } from './permissions.js';
import type { Tenant } from './store.js';

/**
 * One per admin request: whose org, who acts and with which role, when, and the request id.
 * Every verb takes it; every store query it leads to is scoped to `tenant.orgId`. Built from the
 * admin session by `requireSession` (`src/sessions/require-session.ts`); nothing in it is HTTP.
 */
export interface RequestContext {
  readonly tenant: Tenant;
  readonly actor: Extract<Actor, { type: 'user' }>;
  readonly role: Role;
  readonly now: number;
  readonly requestId: string;
}
