import { randomUUID } from 'node:crypto';
import { expandPolicies, holdsPermission, permissionsToPolicies, unique } from './permissions.js';
import { DEFAULT_TOKEN_SECONDS, randomSecret, type TokenRecord, TokenStore } from './tokens.js';
import {
  type ClientInput,
  type ClientState,
  type DivisionInput,
  type EmulatedClient,
  type EmulatedDivision,
  type EmulatedOrg,
  type EmulatedRole,
  type EmulatedUser,
  EmulatorInputError,
  type OrgInput,
  type RoleDivision,
  type RoleInput,
  type UserInput,
  type VendorApp,
} from './types.js';

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'org'
  );
}

/** Absolute http(s) URLs only: /oauth/authorize compares them exactly and redirects to them. */
function redirectUris(uris: readonly string[]): string[] {
  for (const uri of uris) {
    if (!URL.canParse(uri) || !/^https?:$/.test(new URL(uri).protocol)) {
      throw new EmulatorInputError(`registeredRedirectUri ${JSON.stringify(uri)} is not an http(s) URL`);
    }
  }
  return [...new Set(uris)];
}

/** Identity side of the emulated platform: orgs, users, roles, OAuth clients and tokens. */
export class IdentityState {
  readonly orgs = new Map<string, EmulatedOrg>();
  readonly users = new Map<string, EmulatedUser>();
  readonly roles = new Map<string, EmulatedRole>();
  readonly clients = new Map<string, EmulatedClient>();
  readonly divisions = new Map<string, EmulatedDivision>();
  /** The products each org bought (GET /api/v2/authorization/products): none unless set. */
  readonly products = new Map<string, string[]>();
  readonly tokens: TokenStore;

  constructor(
    private readonly now: () => number,
    /** How long a role granted to a user takes to show (Genesys' propagation delay). */
    private readonly roleGrantDelayMs: () => number = () => 0,
  ) {
    this.tokens = new TokenStore(now);
  }

  requireOrg(orgId: string): EmulatedOrg {
    const org = this.orgs.get(orgId);
    if (!org) throw new EmulatorInputError(`unknown org ${orgId}`, 404);
    return org;
  }

  createOrg(input: OrgInput): EmulatedOrg {
    const id = input.id ?? randomUUID();
    if (this.orgs.has(id)) throw new EmulatorInputError(`org ${id} already exists`);
    const taken = new Set([...this.orgs.values()].map((o) => o.thirdPartyOrgName));
    let short = input.thirdPartyOrgName ?? slug(input.name);
    // thirdPartyOrgName is globally unique in Genesys; only a generated one gets a suffix.
    if (taken.has(short) && input.thirdPartyOrgName === undefined) short = `${short}-${id.slice(0, 4)}`;
    if (taken.has(short)) throw new EmulatorInputError(`thirdPartyOrgName ${short} is taken`);
    const org: EmulatedOrg = { id, name: input.name, thirdPartyOrgName: short, domain: short };
    this.orgs.set(id, org);
    // Every org has its Home division from the start, as in Genesys.
    const homeId = randomUUID();
    this.divisions.set(homeId, { id: homeId, orgId: id, name: 'Home', homeDivision: true });
    return { ...org };
  }

  createDivision(input: DivisionInput): EmulatedDivision {
    this.requireOrg(input.orgId);
    const id = input.id ?? randomUUID();
    if (this.divisions.has(id)) throw new EmulatorInputError(`division ${id} already exists`);
    if (this.listDivisions(input.orgId).some((d) => d.name.toLowerCase() === input.name.toLowerCase()))
      throw new EmulatorInputError(`a division named ${input.name} already exists`);
    const division: EmulatedDivision = { id, orgId: input.orgId, name: input.name, homeDivision: false };
    this.divisions.set(id, division);
    return { ...division };
  }

  listDivisions(orgId: string): EmulatedDivision[] {
    return [...this.divisions.values()].filter((d) => d.orgId === orgId).map((d) => ({ ...d }));
  }

  homeDivision(orgId: string): EmulatedDivision {
    const home = [...this.divisions.values()].find((d) => d.orgId === orgId && d.homeDivision);
    if (!home) throw new EmulatorInputError(`unknown org ${orgId}`, 404);
    return home;
  }

  /** Division ids must be the org's own; none given means the Home division. */
  requireDivisions(orgId: string, divisionIds: readonly string[] | undefined): string[] {
    if (!divisionIds || divisionIds.length === 0) return [this.homeDivision(orgId).id];
    for (const id of divisionIds) {
      if (this.divisions.get(id)?.orgId !== orgId)
        throw new EmulatorInputError(`unknown division ${id} in org ${orgId}`);
    }
    return unique([...divisionIds]);
  }

  createUser(input: UserInput): EmulatedUser {
    const org = this.requireOrg(input.orgId);
    const roleIds = unique(input.roleIds ?? []);
    for (const roleId of roleIds) this.requireRole(org.id, roleId);
    const user: EmulatedUser = {
      id: input.id ?? randomUUID(),
      orgId: org.id,
      name: input.name,
      email: input.email ?? `${slug(input.name)}@${org.domain}.example.com`,
      permissions: [...(input.permissions ?? [])],
      roleIds,
      grantedAt: {},
    };
    if (this.users.has(user.id)) throw new EmulatorInputError(`user ${user.id} already exists`);
    this.users.set(user.id, user);
    return structuredClone(user);
  }

  requireRole(orgId: string, roleId: string): EmulatedRole {
    const role = this.roles.get(roleId);
    if (!role || role.orgId !== orgId) throw new EmulatorInputError(`unknown role ${roleId} in org ${orgId}`);
    return role;
  }

  createRole(input: RoleInput): EmulatedRole {
    this.requireOrg(input.orgId);
    const policies = [
      ...structuredClone(input.permissionPolicies ?? []),
      ...permissionsToPolicies(input.permissions ?? []),
    ];
    const role: EmulatedRole = {
      id: input.id ?? randomUUID(),
      orgId: input.orgId,
      name: input.name,
      description: input.description ?? '',
      permissionPolicies: policies,
      permissions: expandPolicies(policies),
    };
    if (this.roles.has(role.id)) throw new EmulatorInputError(`role ${role.id} already exists`);
    this.roles.set(role.id, role);
    return structuredClone(role);
  }

  deleteRole(roleId: string): void {
    this.roles.delete(roleId);
    for (const holder of [...this.users.values(), ...this.clients.values()]) {
      holder.roleIds = holder.roleIds.filter((id) => id !== roleId);
    }
    for (const client of this.clients.values()) {
      client.roleDivisions = client.roleDivisions.filter((rd) => rd.roleId !== roleId);
    }
  }

  listRoles(orgId: string): EmulatedRole[] {
    return [...this.roles.values()].filter((r) => r.orgId === orgId).map((r) => structuredClone(r));
  }

  grantRole(roleId: string, userIds: readonly string[]): void {
    const role = this.roles.get(roleId);
    if (!role) throw new EmulatorInputError(`unknown role ${roleId}`, 404);
    const users = userIds.map((id) => this.users.get(id));
    if (users.some((u) => !u || u.orgId !== role.orgId)) throw new EmulatorInputError('unknown user id');
    for (const user of users) {
      if (!user || user.roleIds.includes(roleId)) continue;
      user.roleIds.push(roleId);
      user.grantedAt[roleId] = this.now() + this.roleGrantDelayMs();
    }
  }

  createClient(input: ClientInput): EmulatedClient {
    this.requireOrg(input.orgId);
    const registeredRedirectUri = redirectUris(input.registeredRedirectUri ?? []);
    const name = input.name ?? 'Emulated client';
    const roleIds = unique(input.roleIds ?? []);
    for (const roleId of roleIds) this.requireRole(input.orgId, roleId);
    if (input.permissions) {
      roleIds.push(
        this.createRole({ orgId: input.orgId, name: `${name} role`, permissions: input.permissions }).id,
      );
    }
    const divisionIds = this.requireDivisions(input.orgId, input.divisionIds);
    const client: EmulatedClient = {
      id: input.id ?? randomUUID(),
      orgId: input.orgId,
      name,
      description: input.description ?? '',
      secret: input.secret ?? randomSecret(),
      authorizedGrantType: input.authorizedGrantType ?? 'CLIENT-CREDENTIALS',
      registeredRedirectUri,
      accessTokenValiditySeconds: input.accessTokenValiditySeconds ?? DEFAULT_TOKEN_SECONDS,
      roleIds,
      roleDivisions: roleIds.flatMap((roleId) => divisionIds.map((divisionId) => ({ roleId, divisionId }))),
      state: input.state ?? 'Active',
      dateCreated: this.now(),
    };
    if (this.clients.has(client.id)) throw new EmulatorInputError(`client ${client.id} already exists`);
    this.clients.set(client.id, client);
    return structuredClone(client);
  }

  /** Replaces a client's grants; `roleIds` stays the list of distinct roles among them. */
  setRoleDivisions(client: EmulatedClient, roleDivisions: readonly RoleDivision[]): void {
    const seen = new Set<string>();
    client.roleDivisions = roleDivisions.filter((rd) => {
      const key = `${rd.roleId} ${rd.divisionId}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    client.roleIds = unique(client.roleDivisions.map((rd) => rd.roleId));
  }

  requireClient(clientId: string): EmulatedClient {
    const client = this.clients.get(clientId);
    if (!client) throw new EmulatorInputError(`unknown client ${clientId}`, 404);
    return client;
  }

  /** Disabled/Inactive: "Access tokens created by the client are invalid" — and stay so. */
  setClientState(clientId: string, state: ClientState): void {
    this.requireClient(clientId).state = state;
    if (state !== 'Active') this.tokens.revokeForClient(clientId);
  }

  deleteClient(clientId: string): void {
    this.requireClient(clientId);
    this.clients.delete(clientId);
    this.tokens.revokeForClient(clientId);
  }

  issueClientToken(client: EmulatedClient, lifetimeSeconds: number): TokenRecord {
    return this.tokens.issue(
      { kind: 'client', orgId: client.orgId, clientId: client.id, scopes: [] },
      lifetimeSeconds,
    );
  }

  /**
   * `clientId`: the emulated client that issued it (authorization-code login), so disabling or
   * deleting that client ends the user's token too, as Genesys documents for every token of a client.
   */
  issueUserToken(
    userId: string,
    lifetimeSeconds: number,
    vendorApp: VendorApp,
    scopes: string[],
    clientId?: string,
  ): TokenRecord {
    const user = this.users.get(userId);
    if (!user) throw new EmulatorInputError(`unknown user ${userId}`, 404);
    const grant = { kind: 'user' as const, orgId: user.orgId, userId, vendorApp, scopes };
    return this.tokens.issue(clientId ? { ...grant, clientId } : grant, lifetimeSeconds);
  }

  /** A token that may be used right now, or undefined (unknown, revoked, expired, dead client/user). */
  validToken(token: string): TokenRecord | undefined {
    const rec = this.tokens.live(token);
    if (!rec) return undefined;
    if (rec.kind === 'client') {
      const client = rec.clientId ? this.clients.get(rec.clientId) : undefined;
      return client?.state === 'Active' ? rec : undefined;
    }
    return rec.userId && this.users.has(rec.userId) ? rec : undefined;
  }

  /**
   * Role ids held by the token's principal: a client's roles (in any division, or only those
   * granted in one of `inDivisions`), or the user's roles whose grant has propagated.
   */
  principalRoleIds(rec: TokenRecord, inDivisions?: readonly string[]): string[] {
    if (rec.kind === 'client') {
      const client = this.clients.get(rec.clientId ?? '');
      const grants = (client?.roleDivisions ?? []).filter(
        (rd) => !inDivisions || inDivisions.includes(rd.divisionId),
      );
      return unique(grants.map((rd) => rd.roleId)).filter((id) => this.roles.has(id));
    }
    const user = this.users.get(rec.userId ?? '');
    const now = this.now();
    return (user?.roleIds ?? []).filter((id) => this.roles.has(id) && (user?.grantedAt[id] ?? 0) <= now);
  }

  /** Client tokens: union of the client's roles. User tokens: direct permissions plus roles. */
  permissionsOf(rec: TokenRecord, inDivisions?: readonly string[]): string[] {
    const direct = rec.kind === 'user' ? (this.users.get(rec.userId ?? '')?.permissions ?? []) : [];
    const fromRoles = this.principalRoleIds(rec, inDivisions).flatMap(
      (id) => this.roles.get(id)?.permissions ?? [],
    );
    return unique([...direct, ...fromRoles]);
  }

  tokenHolds(rec: TokenRecord, permission: string, inDivisions?: readonly string[]): boolean {
    return holdsPermission(this.permissionsOf(rec, inDivisions), permission);
  }
}
