import { isEnvironment } from '../genesys/regions.js';
import { AppError } from '../lib/errors.js';
import type { TenancyDeps } from './deps.js';
import { environmentRefused, genesysUnavailable, userTokenRefused } from './genesys-errors.js';
import { type Role, roleFrom } from './permissions.js';

export interface GenesysUser {
  id: string;
  name: string;
  orgId: string;
  orgName: string;
  environment: string;
  role: Role | undefined;
}

/** @throws 400 unless `environment` is a listed Genesys Cloud environment. Call before any request. */
export function assertEnvironment(environment: string): void {
  if (!isEnvironment(environment)) throw environmentRefused(environment);
}

/**
 * Who holds this Genesys user token: `users/me?expand=authorization&expand=organization` in the
 * given environment (which must be listed: checked before any request leaves). With
 * `GENESYS_OAUTH_CLIENT_ID` set, the token must also have been issued to our own OAuth client
 * (`tokens/me`), so a token a user gave some other app cannot be replayed here.
 */
export async function identifyUser(
  deps: TenancyDeps,
  environment: string,
  token: string,
): Promise<GenesysUser> {
  assertEnvironment(environment);
  const api = deps.genesys.withToken(environment, token);
  const me = await api.usersMe(['authorization', 'organization']);
  if (me.kind !== 'ok') {
    // 400 is Genesys' answer to a client-credentials token here: not a user token either.
    if (me.kind === 'unauthorized' || me.kind === 'not_found' || me.status === 400 || me.status === 403) {
      throw userTokenRefused(me);
    }
    throw genesysUnavailable(me, environment);
  }
  const org = me.value.organization;
  if (!org?.id)
    throw new AppError('genesys_unavailable', 'Genesys Cloud did not say which org the user belongs to.');
  const vendorClientId = deps.config.genesys.oauthClientId;
  if (vendorClientId) {
    const info = await api.tokensMe();
    if (info.kind !== 'ok')
      throw info.kind === 'unauthorized' ? userTokenRefused(info) : genesysUnavailable(info, environment);
    if (info.value.OAuthClient?.id !== vendorClientId) {
      throw new AppError(
        'unauthorized',
        'This Genesys token was not issued to attribute-relay; sign in through the app.',
      );
    }
  }
  return {
    id: me.value.id,
    name: me.value.name ?? '',
    orgId: org.id,
    orgName: org.name ?? '',
    environment,
    role: roleFrom(deps.manifest, me.value.authorization?.permissions ?? []),
  };
}
