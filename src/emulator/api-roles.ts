import type { Hono } from 'hono';
import { z } from 'zod';
import { readBody } from './body.js';
import type { EmuEnv, EmulatorCore } from './core.js';
import { apiError, jsonResponse } from './errors.js';
import { denied, tokenOf } from './pipeline.js';
import type { EmulatedDivision, EmulatedRole } from './types.js';

const policySchema = z.looseObject({
  domain: z.string().min(1),
  entityName: z.string().min(1),
  actionSet: z.array(z.string().min(1)).min(1),
});
const roleSchema = z.looseObject({
  name: z.string().trim().min(1),
  description: z.string().optional(),
  permissionPolicies: z.array(policySchema).optional(),
  permissions: z.array(z.string().min(1)).optional(),
});

/** Authorization roles as the premium-app wizard uses them (facts §6). */
export function registerRoles(app: Hono<EmuEnv>, core: EmulatorCore): void {
  const ids = core.identity;

  app.post('/api/v2/authorization/roles', (c) => {
    const refusal = denied(c, core, 'authorization:role:add');
    if (refusal) return refusal;
    const body = readBody(c, roleSchema);
    if (!body.ok) return body.response;
    const orgId = tokenOf(c).orgId;
    const { name, description, permissions } = body.value;
    if (ids.listRoles(orgId).some((r) => r.name.toLowerCase() === name.toLowerCase())) {
      return apiError(c, 409, 'conflict', `A role named '${name}' already exists.`);
    }
    const permissionPolicies = body.value.permissionPolicies?.map(({ domain, entityName, actionSet }) => ({
      domain,
      entityName,
      actionSet,
    }));
    const role = ids.createRole({ orgId, name, description, permissions, permissionPolicies });
    return jsonResponse(200, roleJson(core, role));
  });

  app.get('/api/v2/authorization/roles', (c) => {
    const refusal = denied(c, core, 'authorization:role:view');
    if (refusal) return refusal;
    const name = c.req.query('name');
    const matches = nameMatcher(name);
    const roles = ids.listRoles(tokenOf(c).orgId).filter((r) => matches(r.name));
    const pageSize = positive(c.req.query('pageSize'), 25);
    const pageNumber = positive(c.req.query('pageNumber'), 1);
    const entities = roles.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
    return jsonResponse(200, {
      entities: entities.map((r) => roleJson(core, r)),
      pageSize,
      pageNumber,
      total: roles.length,
      pageCount: Math.ceil(roles.length / pageSize),
    });
  });

  app.get('/api/v2/authorization/roles/:roleId', (c) => {
    const refusal = denied(c, core, 'authorization:role:view');
    if (refusal) return refusal;
    const role = ids.roles.get(c.req.param('roleId'));
    if (!role || role.orgId !== tokenOf(c).orgId) return apiError(c, 404);
    return jsonResponse(200, roleJson(core, role));
  });

  app.delete('/api/v2/authorization/roles/:roleId', (c) => {
    const refusal = denied(c, core, 'authorization:role:delete');
    if (refusal) return refusal;
    const role = ids.roles.get(c.req.param('roleId'));
    if (!role || role.orgId !== tokenOf(c).orgId) return apiError(c, 404);
    ids.deleteRole(role.id);
    return new Response(null, { status: 204 });
  });

  // "Requires NO permissions" (SDK AuthorizationApi.md): every token of the org may list them.
  app.get('/api/v2/authorization/divisions', (c) => {
    const divisions = ids.listDivisions(tokenOf(c).orgId);
    const pageSize = positive(c.req.query('pageSize'), 25);
    const pageNumber = positive(c.req.query('pageNumber'), 1);
    return jsonResponse(200, {
      entities: divisions.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map(divisionJson),
      pageSize,
      pageNumber,
      total: divisions.length,
      pageCount: Math.ceil(divisions.length / pageSize),
    });
  });

  app.get('/api/v2/authorization/divisions/home', (c) =>
    jsonResponse(200, divisionJson(ids.homeDivision(tokenOf(c).orgId))),
  );

  app.put('/api/v2/authorization/roles/:roleId/users/add', (c) => {
    const refusal = denied(c, core, 'authorization:grant:add');
    if (refusal) return refusal;
    const body = readBody(c, z.array(z.string().min(1)));
    if (!body.ok) return body.response;
    const role = ids.roles.get(c.req.param('roleId'));
    if (!role || role.orgId !== tokenOf(c).orgId) return apiError(c, 404);
    const unknown = body.value.filter((id) => ids.users.get(id)?.orgId !== role.orgId);
    if (unknown.length > 0)
      return apiError(c, 400, 'bad.request', `Unknown user id(s): ${unknown.join(', ')}`);
    ids.grantRole(role.id, body.value);
    return jsonResponse(200, body.value);
  });
}

function roleJson(core: EmulatorCore, role: EmulatedRole): Record<string, unknown> {
  return {
    id: role.id,
    name: role.name,
    description: role.description,
    permissionPolicies: role.permissionPolicies.map((p) => ({
      domain: p.domain,
      entityName: p.entityName,
      policyName: `${p.domain}:${p.entityName}`,
      actionSet: [...p.actionSet],
      allowConditions: false,
    })),
    userCount: [...core.identity.users.values()].filter((u) => u.roleIds.includes(role.id)).length,
    default: false,
    base: false,
    selfUri: `/api/v2/authorization/roles/${role.id}`,
  };
}

function divisionJson(d: EmulatedDivision): Record<string, unknown> {
  return {
    id: d.id,
    name: d.name,
    description: '',
    homeDivision: d.homeDivision,
    selfUri: `/api/v2/authorization/divisions/${d.id}`,
  };
}

/** Exact (case-insensitive) name, or a `*` wildcard pattern such as `PREFIX_*`. */
function nameMatcher(pattern: string | undefined): (name: string) => boolean {
  if (!pattern) return () => true;
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  const re = new RegExp(`^${escaped}$`, 'i');
  return (name) => re.test(name);
}

function positive(value: string | undefined, fallback: number): number {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}
