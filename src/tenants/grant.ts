import type { GenesysApi } from '../genesys/client.js';
import type { Credentials } from '../genesys/token-cache.js';
import { AppError } from '../lib/errors.js';
import type { TenancyDeps } from './deps.js';
import { genesysUnavailable, grantInvalid, userCallFailure } from './genesys-errors.js';
import type { GenesysUser } from './identify-user.js';
import { noProgress, type ProgressReporter } from './install-progress.js';

/**
 * Checks a client-credentials grant before it is stored: Genesys must issue a token for it, and
 * `organizations/me` with that token must name `orgId`. Nothing is stored here.
 * @throws 422 for refused credentials or a grant of another org; 502 when Genesys does not answer.
 */
export async function verifyGrant(deps: TenancyDeps, credentials: Credentials, orgId: string): Promise<void> {
  const token = await deps.genesys.requestToken(credentials);
  if (token.kind !== 'ok') {
    if (token.kind === 'retryable' || token.kind === 'rate_limited')
      throw genesysUnavailable(token, credentials.environment);
    throw grantInvalid(
      [{ path: 'clientSecret', message: `Genesys Cloud refused these client credentials (${token.code}).` }],
      'Genesys Cloud did not accept the client id and secret.',
    );
  }
  const org = await deps.genesys
    .withToken(credentials.environment, token.value.accessToken)
    .organizationsMe();
  if (org.kind !== 'ok') {
    if (org.kind === 'retryable' || org.kind === 'rate_limited')
      throw genesysUnavailable(org, credentials.environment);
    throw grantInvalid(
      [{ path: 'clientId', message: `organizations/me failed (${org.code})` }],
      'The grant cannot read its org.',
    );
  }
  if (org.value.id !== orgId) {
    throw grantInvalid(
      [{ path: 'clientId', message: 'This OAuth client belongs to another Genesys Cloud org.' }],
      'The grant must belong to your own org.',
    );
  }
}

export interface ProvisionedGrant {
  clientId: string;
  clientSecret: string;
  roleId: string;
  /** The divisions the role was granted in: every division of the org at install time. */
  divisionIds: string[];
}

/** The official wizard polls users/me every 3 s until a new role shows; we wait at most a minute. */
export const ROLE_POLL_MS = 3_000;
export const ROLE_WAIT_MS = 60_000;

/**
 * Install without credentials, as the premium-app wizard does it, with the admin's own token:
 * the manifest's least-privilege role (reused if an earlier attempt left it), granted to the admin
 * (Genesys lets a user give an OAuth client only roles the user holds, once the grant has
 * propagated), then a CLIENT-CREDENTIALS OAuth client holding it in every division of the org
 * (client roles are scoped to the Home division otherwise). A role this call created is removed
 * again if the client cannot be made.
 */
export async function provisionGrant(
  deps: TenancyDeps,
  user: GenesysUser,
  userToken: string,
  progress: ProgressReporter = noProgress,
): Promise<ProvisionedGrant> {
  const env = user.environment;
  const api = deps.genesys.withToken(env, userToken);
  const spec = deps.manifest.install;
  progress('creating_role', `Creating the role ${spec.role.name} in your org.`);
  const existing = await api.findRoleByName(spec.role.name);
  if (existing.kind !== 'ok') throw userCallFailure(existing, env, 'look up roles');
  let roleId = existing.value?.id;
  let createdRole = false;
  if (!roleId) {
    const role = await api.createRole({
      name: spec.role.name,
      description: spec.role.description,
      permissionPolicies: spec.role.permissionPolicies,
    });
    if (role.kind !== 'ok') throw userCallFailure(role, env, `create the role ${spec.role.name}`);
    roleId = role.value.id;
    createdRole = true;
  }
  try {
    await holdRole(deps, api, { id: roleId, name: spec.role.name }, user, progress);
    const divisionIds = await everyDivision(api, env);
    progress('creating_client', `Creating the OAuth client in ${divisionIds.length} division(s).`);
    const client = await api.createOAuthClient({
      ...spec.oauthClient,
      roleDivisions: divisionIds.map((divisionId) => ({ roleId, divisionId })),
    });
    if (client.kind !== 'ok') throw userCallFailure(client, env, 'create the OAuth client');
    if (!client.value.secret) {
      throw new AppError(
        'genesys_unavailable',
        'Genesys Cloud created the OAuth client but returned no secret.',
      );
    }
    return { clientId: client.value.id, clientSecret: client.value.secret, roleId, divisionIds };
  } catch (e) {
    if (createdRole) {
      const undone = await api.deleteRole(roleId);
      if (undone.kind !== 'ok')
        deps.logger.warn('could not remove the role created by a failed install', { roleId });
    }
    throw e;
  }
}

/** Every division of the org: the grant's role goes into each (there is no documented wildcard). */
export async function everyDivision(api: GenesysApi, env: string): Promise<string[]> {
  const divisions = await api.divisions();
  if (divisions.kind !== 'ok') throw userCallFailure(divisions, env, 'list the org’s divisions');
  return divisions.value.map((d) => d.id);
}

/** Grants the role to the admin and waits until Genesys lets them give it to a client. */
export async function holdRole(
  deps: TenancyDeps,
  api: GenesysApi,
  role: { id: string; name: string },
  user: GenesysUser,
  progress: ProgressReporter = noProgress,
): Promise<void> {
  progress('granting_role', `Granting ${role.name} to you, so that you may give it to a client.`);
  const added = await api.addRoleUsers(role.id, [user.id]);
  if (added.kind !== 'ok') throw userCallFailure(added, user.environment, 'grant the role to you');
  await awaitRoleHeld(deps, api, role, user.environment, progress);
}

/**
 * A role just granted takes a while before Genesys lets it go on a client. Poll users/me every
 * ROLE_POLL_MS until it shows, at most ROLE_WAIT_MS; then 504 with what to do.
 */
async function awaitRoleHeld(
  deps: TenancyDeps,
  api: GenesysApi,
  role: { id: string; name: string },
  env: string,
  progress: ProgressReporter,
): Promise<void> {
  const started = deps.clock.now();
  for (let checks = 1; ; checks++) {
    const me = await api.usersMe(['authorization']);
    if (me.kind !== 'ok') throw userCallFailure(me, env, 'read your roles');
    if (me.value.authorization?.roles?.some((r) => r.id === role.id)) return;
    const waitedMs = deps.clock.now() - started;
    if (waitedMs >= ROLE_WAIT_MS) {
      throw new AppError(
        'provisioning_timeout',
        `Genesys Cloud had not yet let you use the role ${role.name} after ${Math.round(waitedMs / 1000)} s (it was granted to you, but grants take a while to reach every part of Genesys). Nothing was kept: install again in a minute or two.`,
      );
    }
    progress(
      'waiting_for_role',
      `Waiting for Genesys Cloud to let you use the role ${role.name} (checked ${checks} time(s); grants can take up to a minute).`,
      { waitedMs, timeoutMs: ROLE_WAIT_MS, checks },
    );
    await deps.clock.sleep(Math.min(ROLE_POLL_MS, ROLE_WAIT_MS - waitedMs));
  }
}
