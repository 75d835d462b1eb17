import type { Hono } from 'hono';
import type { EmuEnv, EmulatorCore } from './core.js';
import { apiError, jsonResponse } from './errors.js';
import { permissionsToPolicies } from './permissions.js';
import { tokenOf } from './pipeline.js';
import { DEFAULT_VENDOR_APP, type TokenRecord } from './tokens.js';
import type { EmulatedOrg, PermissionPolicy } from './types.js';

/** organizations/me, tokens/me and users/me: how a caller learns whose credential it holds (facts §6). */
export function registerIdentity(app: Hono<EmuEnv>, core: EmulatorCore): void {
  app.get('/api/v2/organizations/me', (c) => {
    return jsonResponse(200, organizationJson(core.identity.requireOrg(tokenOf(c).orgId)));
  });

  app.get('/api/v2/tokens/me', (c) => jsonResponse(200, tokenInfoJson(core, tokenOf(c))));

  // "Requires NO permissions" (shared/genesys §12.2): any token of the org may ask.
  app.get('/api/v2/authorization/products', (c) => {
    const ids = core.identity.products.get(tokenOf(c).orgId) ?? [];
    const entities = ids.map((id) => ({ id }));
    return jsonResponse(200, { entities, pageSize: 25, pageNumber: 1, total: entities.length, pageCount: 1 });
  });

  app.get('/api/v2/users/me', (c) => {
    const rec = tokenOf(c);
    const user = core.identity.users.get(rec.userId ?? '');
    if (rec.kind === 'client' || !user) {
      const message = 'This request is not valid when using the Client Credentials OAuth grant.';
      return apiError(c, 400, 'bad.request', message);
    }
    // `expand` is collectionFormat multi (repeated); comma-separated values are accepted too.
    const expand = new Set((c.req.queries('expand') ?? []).flatMap((v) => v.split(',').map((s) => s.trim())));
    const body: Record<string, unknown> = {
      id: user.id,
      name: user.name,
      email: user.email,
      username: user.email,
      state: 'active',
      version: 1,
      selfUri: `/api/v2/users/${user.id}`,
    };
    if (expand.has('authorization')) body.authorization = authorizationJson(core, rec);
    if (expand.has('organization'))
      body.organization = organizationJson(core.identity.requireOrg(user.orgId));
    if (expand.has('token')) body.token = tokenInfoJson(core, rec);
    return jsonResponse(200, body);
  });
}

export function organizationJson(org: EmulatedOrg): Record<string, unknown> {
  return {
    id: org.id,
    name: org.name,
    defaultLanguage: 'en-us',
    defaultCountryCode: 'US',
    thirdPartyOrgName: org.thirdPartyOrgName,
    domain: org.domain,
    version: 1,
    state: 'active',
    voicemailEnabled: true,
    productPlatform: 'GenesysCloud',
    features: {},
    selfUri: `/api/v2/organizations/${org.id}`,
  };
}

function orgRef(org: EmulatedOrg): Record<string, string> {
  return { id: org.id, name: org.name, selfUri: `/api/v2/organizations/${org.id}` };
}

/** TokenInfo. Client tokens: the client itself and no scopes (scopes don't apply to that grant). */
function tokenInfoJson(core: EmulatorCore, rec: TokenRecord): Record<string, unknown> {
  const org = core.identity.requireOrg(rec.orgId);
  const client = rec.kind === 'client' ? core.identity.clients.get(rec.clientId ?? '') : undefined;
  const app = rec.vendorApp ?? DEFAULT_VENDOR_APP;
  const oauthClient = client
    ? {
        id: client.id,
        name: client.name,
        authorizedGrantType: client.authorizedGrantType,
        orgId: client.orgId,
        roleDivisions: client.roleDivisions.map((rd) => ({ ...rd })),
      }
    : { id: app.id, name: app.name, authorizedGrantType: app.authorizedGrantType, orgId: app.orgId };
  return {
    organization: orgRef(org),
    homeOrganization: orgRef(org),
    authorizedScope: [...rec.scopes],
    OAuthClient: {
      id: oauthClient.id,
      name: oauthClient.name,
      authorizedGrantType: oauthClient.authorizedGrantType,
      ...('roleDivisions' in oauthClient ? { roleDivisions: oauthClient.roleDivisions } : {}),
      organization: { id: oauthClient.orgId },
      selfUri: `/api/v2/oauth/clients/${oauthClient.id}`,
    },
  };
}

/** UserAuthorization: roles, every permission granted (direct + roles), and the policies behind them. */
function authorizationJson(core: EmulatorCore, rec: TokenRecord): Record<string, unknown> {
  const roles = core.identity.principalRoleIds(rec).flatMap((id) => {
    const role = core.identity.roles.get(id);
    return role ? [role] : [];
  });
  const direct = core.identity.users.get(rec.userId ?? '')?.permissions ?? [];
  const policies: PermissionPolicy[] = [
    ...permissionsToPolicies(direct),
    ...roles.flatMap((r) => r.permissionPolicies),
  ];
  return {
    roles: roles.map((r) => ({ id: r.id, name: r.name })),
    unusedRoles: [],
    permissions: core.identity.permissionsOf(rec).sort(),
    permissionPolicies: policies.map((p) => ({
      domain: p.domain,
      entityName: p.entityName,
      policyName: `${p.domain}:${p.entityName}`,
      actionSet: [...p.actionSet],
      allowConditions: false,
    })),
  };
}
