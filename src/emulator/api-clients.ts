import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { readBody } from './body.js';
import type { EmuEnv, EmulatorCore } from './core.js';
import { apiError, jsonResponse } from './errors.js';
import { denied, tokenOf } from './pipeline.js';
import { DEFAULT_TOKEN_SECONDS } from './tokens.js';
import type { ClientState, EmulatedClient, RoleDivision } from './types.js';

const STATES: Record<string, ClientState> = { active: 'Active', disabled: 'Disabled', inactive: 'Inactive' };

const clientSchema = z.looseObject({
  name: z.string().trim().min(1),
  description: z.string().optional(),
  authorizedGrantType: z.enum(['CODE', 'TOKEN', 'SAML2BEARER', 'PASSWORD', 'CLIENT-CREDENTIALS']),
  accessTokenValiditySeconds: z.number().int().min(300).max(172_800).optional(),
  registeredRedirectUri: z.array(z.url({ protocol: /^https?$/ })).optional(),
  roleIds: z.array(z.string().min(1)).optional(),
  roleDivisions: z
    .array(z.looseObject({ roleId: z.string().min(1), divisionId: z.string().min(1).optional() }))
    .optional(),
  // The wizard sends lower-case 'inactive' on uninstall (facts §6), so accept any case.
  state: z
    .string()
    .transform((s) => STATES[s.toLowerCase()])
    .pipe(z.enum(['Active', 'Disabled', 'Inactive']))
    .optional(),
});
type ClientBody = z.infer<typeof clientSchema>;

/** OAuth client administration (what the wizard's oauth-client module calls, facts §6). */
export function registerClients(app: Hono<EmuEnv>, core: EmulatorCore): void {
  const ids = core.identity;
  const own = (c: Context<EmuEnv>): EmulatedClient | undefined => {
    const client = ids.clients.get(c.req.param('clientId') ?? '');
    return client && client.orgId === tokenOf(c).orgId ? client : undefined;
  };

  app.get('/api/v2/oauth/clients', (c) => {
    const refusal = denied(c, core, 'oauth:client:view');
    if (refusal) return refusal;
    const clients = [...ids.clients.values()].filter((cl) => cl.orgId === tokenOf(c).orgId);
    return jsonResponse(200, { entities: clients.map(clientJson) });
  });

  app.post('/api/v2/oauth/clients', (c) => {
    const refusal = denied(c, core, 'oauth:client:add');
    if (refusal) return refusal;
    const body = readBody(c, clientSchema);
    if (!body.ok) return body.response;
    const grants = grantsOf(core, tokenOf(c).orgId, body.value);
    if (typeof grants === 'string') return apiError(c, 400, 'bad.request', grants);
    const bad = unassignableRole(c, core, grants, []);
    if (bad) return bad;
    const { name, description, authorizedGrantType, accessTokenValiditySeconds, state } = body.value;
    const { registeredRedirectUri } = body.value;
    const { id } = ids.createClient({
      orgId: tokenOf(c).orgId,
      ...{ name, description, authorizedGrantType, accessTokenValiditySeconds, state },
      registeredRedirectUri,
    });
    const client = ids.requireClient(id);
    ids.setRoleDivisions(client, grants);
    return jsonResponse(200, clientJson(client));
  });

  app.get('/api/v2/oauth/clients/:clientId', (c) => {
    const refusal = denied(c, core, 'oauth:client:view');
    if (refusal) return refusal;
    const client = own(c);
    return client ? jsonResponse(200, clientJson(client)) : apiError(c, 404);
  });

  // Full replace of the editable fields; an absent `state` keeps the current one.
  app.put('/api/v2/oauth/clients/:clientId', (c) => {
    const refusal = denied(c, core, 'oauth:client:edit');
    if (refusal) return refusal;
    const body = readBody(c, clientSchema);
    if (!body.ok) return body.response;
    const client = own(c);
    if (!client) return apiError(c, 404);
    const grants = grantsOf(core, client.orgId, body.value);
    if (typeof grants === 'string') return apiError(c, 400, 'bad.request', grants);
    const bad = unassignableRole(c, core, grants, client.roleIds);
    if (bad) return bad;
    client.name = body.value.name;
    client.description = body.value.description ?? '';
    client.authorizedGrantType = body.value.authorizedGrantType;
    client.registeredRedirectUri = [...new Set(body.value.registeredRedirectUri ?? [])];
    client.accessTokenValiditySeconds = body.value.accessTokenValiditySeconds ?? DEFAULT_TOKEN_SECONDS;
    ids.setRoleDivisions(client, grants);
    if (body.value.state) ids.setClientState(client.id, body.value.state);
    return jsonResponse(200, clientJson(client));
  });

  app.delete('/api/v2/oauth/clients/:clientId', (c) => {
    const refusal = denied(c, core, 'oauth:client:delete');
    if (refusal) return refusal;
    const client = own(c);
    if (!client) return apiError(c, 404);
    ids.deleteClient(client.id);
    return new Response(null, { status: 204 });
  });
}

/**
 * `roleDivisions` say where each role applies; the deprecated `roleIds`, and a roleDivision without
 * a division, mean the Home division (§12.1). Unknown division ids → an error message.
 */
function grantsOf(core: EmulatorCore, orgId: string, body: ClientBody): RoleDivision[] | string {
  const home = core.identity.homeDivision(orgId).id;
  const grants = [
    ...(body.roleIds ?? []).map((roleId) => ({ roleId, divisionId: home })),
    ...(body.roleDivisions ?? []).map((rd) => ({ roleId: rd.roleId, divisionId: rd.divisionId ?? home })),
  ];
  const unknown = grants.find((g) => core.identity.divisions.get(g.divisionId)?.orgId !== orgId);
  return unknown ? `Division ${unknown.divisionId} does not exist.` : grants;
}

/**
 * Roles must exist in the org, and the caller must hold each role it newly assigns. The second rule
 * is inferred from the official wizard, which grants itself the role (roles/users/add) and waits until
 * users/me shows it before putting the role on a client.
 */
function unassignableRole(
  c: Context<EmuEnv>,
  core: EmulatorCore,
  grants: RoleDivision[],
  alreadyAssigned: string[],
): Response | undefined {
  const rec = tokenOf(c);
  // Only grants that have propagated count (roleGrantDelayMs): the wizard's reason to poll users/me.
  const held = new Set(core.identity.principalRoleIds(rec));
  for (const roleId of new Set(grants.map((g) => g.roleId))) {
    const role = core.identity.roles.get(roleId);
    if (!role || role.orgId !== rec.orgId)
      return apiError(c, 400, 'bad.request', `Role ${roleId} does not exist.`);
    if (!held.has(roleId) && !alreadyAssigned.includes(roleId)) {
      const message = `You cannot assign role ${roleId} to an OAuth client because you do not hold it.`;
      return apiError(c, 400, 'bad.request', message);
    }
  }
  return undefined;
}

function clientJson(client: EmulatedClient): Record<string, unknown> {
  return {
    id: client.id,
    name: client.name,
    description: client.description,
    accessTokenValiditySeconds: client.accessTokenValiditySeconds,
    authorizedGrantType: client.authorizedGrantType,
    registeredRedirectUri: [...client.registeredRedirectUri],
    secret: client.secret,
    roleIds: [...client.roleIds],
    roleDivisions: client.roleDivisions.map((rd) => ({ ...rd })),
    scope: [],
    state: client.state,
    dateCreated: new Date(client.dateCreated).toISOString(),
    selfUri: `/api/v2/oauth/clients/${client.id}`,
  };
}
