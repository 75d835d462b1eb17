import type { Credentials } from '../genesys/token-cache.js';
import { AppError } from '../http/problem.js';
import type { TenancyDeps } from './deps.js';
import { genesysUnavailable, grantInvalid, userCallFailure } from './genesys-errors.js';
import type { GenesysUser } from './identify-user.js';

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
}

/**
 * Install without credentials, as the premium-app wizard does it, with the admin's own token:
 * the manifest's least-privilege role (reused if an earlier attempt left it), granted to the admin
 * (Genesys lets a user give an OAuth client only roles the user holds), then a CLIENT-CREDENTIALS
 * OAuth client holding it. A role this call created is removed again if the client cannot be.
 */
export async function provisionGrant(
  deps: TenancyDeps,
  user: GenesysUser,
  userToken: string,
): Promise<ProvisionedGrant> {
  const env = user.environment;
  const api = deps.genesys.withToken(env, userToken);
  const spec = deps.manifest.install;
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
    const added = await api.addRoleUsers(roleId, [user.id]);
    if (added.kind !== 'ok') throw userCallFailure(added, env, 'grant the role to you');
    const client = await api.createOAuthClient({ ...spec.oauthClient, roleIds: [roleId] });
    if (client.kind !== 'ok') throw userCallFailure(client, env, 'create the OAuth client');
    if (!client.value.secret) {
      throw new AppError(
        'genesys_unavailable',
        'Genesys Cloud created the OAuth client but returned no secret.',
      );
    }
    return { clientId: client.value.id, clientSecret: client.value.secret, roleId };
  } catch (e) {
    if (createdRole) {
      const undone = await api.deleteRole(roleId);
      if (undone.kind !== 'ok')
        deps.logger.warn('could not remove the role created by a failed install', { roleId });
    }
    throw e;
  }
}
