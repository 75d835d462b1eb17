import { AppError, forbidden, notFound } from '../lib/errors.js';
import type { TenancyDeps } from '../tenants/deps.js';
import { identifyUser } from '../tenants/identify-user.js';
import type { Role } from '../tenants/permissions.js';

export interface SessionResult {
  token: string;
  expiresAt: string;
  orgId: string;
  role: Role;
  user: { id: string; name: string };
}

/**
 * Exchanges a Genesys user token for our own session: the user's org must be installed, from the
 * same environment, and the user must hold one of the app permissions.
 */
export async function createSession(
  deps: TenancyDeps,
  environment: string,
  userToken: string,
): Promise<SessionResult> {
  const user = await identifyUser(deps, environment, userToken);
  if (!user.role) {
    throw forbidden(
      'Your Genesys Cloud roles grant neither integration:attributeRelay:admin nor integration:attributeRelay:view.',
    );
  }
  const tenant = await deps.tenants.get(user.orgId);
  if (!tenant)
    throw notFound('attribute-relay is not installed in your org yet; an admin installs it first.');
  if (tenant.environment !== environment) {
    throw new AppError('unauthorized', `Your org is installed from ${tenant.environment}; sign in there.`);
  }
  // Each sign-in re-reads the licence with the user's own token (the page then shows it).
  await deps.licensing?.check(user.orgId, deps.genesys.withToken(environment, userToken));
  // And which divisions the grant reaches, unless read in the last minutes (the health page shows it).
  await deps.divisionCoverage?.current(user.orgId);
  const { token, expiresAt } = await deps.sessions.issue(
    {
      orgId: user.orgId,
      role: user.role,
      userId: user.id,
      userName: user.name,
      installedAt: tenant.installedAt,
    },
    deps.clock.now(),
  );
  return {
    token,
    expiresAt: new Date(expiresAt).toISOString(),
    orgId: user.orgId,
    role: user.role,
    user: { id: user.id, name: user.name },
  };
}
