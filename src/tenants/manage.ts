import { AppError, conflict } from '../lib/errors.js';
import type { RequestContext } from './context.js';
import type { TenancyDeps } from './deps.js';
import { userCallFailure } from './genesys-errors.js';
import { everyDivision, holdRole, verifyGrant } from './grant.js';
import { identifyUser } from './identify-user.js';
import type { Tenant } from './store.js';

/** PATCH /v1/tenant: changes only what differs; no change, no audit row. */
export async function updateSettings(
  deps: TenancyDeps,
  ctx: RequestContext,
  patch: Partial<Tenant['settings']>,
): Promise<Tenant> {
  const current = ctx.tenant.settings;
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of [
    'requestsPerMinute',
    'auditRetentionDays',
    'endedParticipants',
    'maxAttributeValueLength',
  ] as const) {
    const to = patch[key];
    if (to !== undefined && to !== current[key]) changed[key] = { from: current[key], to };
  }
  if (Object.keys(changed).length > 0) {
    const next = Object.fromEntries(Object.entries(changed).map(([k, v]) => [k, v.to]));
    await deps.tenants.updateSettings(ctx.tenant.orgId, next, {
      orgId: ctx.tenant.orgId,
      at: ctx.now,
      kind: 'tenant.updated',
      actor: ctx.actor,
      outcome: 'ok',
      detail: { changed },
    });
  }
  return (await deps.tenants.get(ctx.tenant.orgId)) ?? ctx.tenant;
}

/**
 * PUT /v1/grant: verified against Genesys before it replaces the stored one. An OAuth client we
 * created earlier is left in Genesys (our grant cannot delete clients); the audit row names it.
 */
export async function replaceGrant(
  deps: TenancyDeps,
  ctx: RequestContext,
  input: { clientId: string; clientSecret: string },
): Promise<Tenant> {
  const { orgId, environment, grant: previous } = ctx.tenant;
  await verifyGrant(deps, { environment, ...input }, orgId);
  await deps.tenants.replaceGrant(
    orgId,
    {
      clientId: input.clientId,
      secretSealed: await deps.sealer.seal(orgId, input.clientSecret),
      managed: false,
      managedRoleId: null,
    },
    {
      orgId,
      at: ctx.now,
      kind: 'grant.updated',
      actor: ctx.actor,
      outcome: 'ok',
      detail: {
        clientId: input.clientId,
        previousClientId: previous.clientId,
        ...(previous.managed ? { previousClientLeftInGenesys: true } : {}),
      },
    },
  );
  deps.genesys.tokens.invalidate(orgId);
  return (await deps.tenants.get(orgId)) ?? ctx.tenant;
}

/**
 * POST /v1/grant/divisions: the OAuth client we created gets its role in every division the org
 * has now (divisions made after install are out of its reach until then). Done with the admin's
 * own Genesys token (`oauth:client:edit`), who must hold the role to give it, as at install.
 */
export async function regrantDivisions(
  deps: TenancyDeps,
  ctx: RequestContext,
  genesysToken: string | undefined,
): Promise<Tenant> {
  const { orgId, environment, grant } = ctx.tenant;
  if (!grant.managed || !grant.managedRoleId) {
    throw conflict(
      `OAuth client ${grant.clientId} is your own (given at install), so attribute-relay does not change it. In Genesys Cloud, give its role every division (Admin > OAuth > Roles).`,
    );
  }
  const user = await adminOfOrg(deps, ctx, genesysToken, 'add divisions to it');
  const api = deps.genesys.withToken(environment, genesysToken!);
  const spec = deps.manifest.install;
  await holdRole(deps, api, { id: grant.managedRoleId, name: spec.role.name }, user);
  const divisionIds = await everyDivision(api, environment);
  const roleId = grant.managedRoleId;
  const updated = await api.updateOAuthClient(grant.clientId, {
    ...spec.oauthClient,
    roleDivisions: divisionIds.map((divisionId) => ({ roleId, divisionId })),
  });
  if (updated.kind !== 'ok') throw userCallFailure(updated, environment, 'update the OAuth client');
  const before = new Set((grant.divisions?.missing ?? []).map((d) => d.id));
  await deps.tenants.recordDivisions(
    orgId,
    { checkedAt: ctx.now, total: divisionIds.length, missing: [] },
    {
      orgId,
      at: ctx.now,
      kind: 'grant.updated',
      actor: ctx.actor,
      outcome: 'ok',
      detail: {
        clientId: grant.clientId,
        divisions: divisionIds.length,
        added: divisionIds.filter((id) => before.has(id)),
      },
    },
  );
  // Tokens carry their grants: the next call must use one issued after the change.
  deps.genesys.tokens.invalidate(orgId);
  return (await deps.tenants.get(orgId)) ?? ctx.tenant;
}

/** X-Genesys-Token: required, and an admin of this very org. */
async function adminOfOrg(
  deps: TenancyDeps,
  ctx: RequestContext,
  genesysToken: string | undefined,
  why: string,
) {
  if (!genesysToken) {
    throw new AppError(
      'bad_request',
      `attribute-relay created this org’s OAuth client; send your Genesys user token in the X-Genesys-Token header to ${why}.`,
    );
  }
  const user = await identifyUser(deps, ctx.tenant.environment, genesysToken);
  if (user.orgId !== ctx.tenant.orgId || user.role !== 'admin') {
    throw new AppError('forbidden', 'X-Genesys-Token must be an admin of this org.');
  }
  return user;
}

/**
 * DELETE /v1/tenant. When we created the grant, the OAuth client (and role) are deleted first with
 * the admin's own Genesys token: our client-credentials grant holds no permission to do it, by
 * design. Then every row of the org goes, and one `tenant.uninstalled` row stays.
 */
export async function uninstall(
  deps: TenancyDeps,
  ctx: RequestContext,
  genesysToken: string | undefined,
): Promise<void> {
  const { orgId, environment, grant } = ctx.tenant;
  const removed: Record<string, boolean> = {};
  if (grant.managed) {
    await adminOfOrg(deps, ctx, genesysToken, 'delete it');
    const api = deps.genesys.withToken(environment, genesysToken!);
    const client = await api.deleteOAuthClient(grant.clientId);
    if (client.kind !== 'ok' && client.kind !== 'not_found')
      throw userCallFailure(client, environment, 'delete the OAuth client');
    removed.oauthClientDeleted = true;
    if (grant.managedRoleId) {
      const role = await api.deleteRole(grant.managedRoleId);
      removed.roleDeleted = role.kind === 'ok' || role.kind === 'not_found';
    }
  }
  await deps.tenants.uninstall(orgId, {
    orgId,
    at: ctx.now,
    kind: 'tenant.uninstalled',
    actor: ctx.actor,
    outcome: 'ok',
    detail: { clientId: grant.clientId, managed: grant.managed, ...removed },
  });
  deps.genesys.tokens.invalidate(orgId);
}
