/**
 * Public types of the Genesys Cloud emulator. Field names follow the Genesys Swagger where a value
 * is also sent over the wire; the rest are emulator-side bookkeeping.
 */

export type AttributeMode = 'merge' | 'replace';
export type EndedParticipantPatch = 'accept' | 'conflict' | 'bad_request';
/** What a token whose roles lack a conversation's division gets: unknown in real Genesys (§12.1). */
export type DivisionRefusal = 403 | 404;

export interface EmulatorOptions {
  /** Milliseconds since the epoch; injectable so tests can expire tokens without sleeping. */
  clock?: () => number;
  /** Requests per token per 60 s window; default 300; null disables rate limiting. */
  rateLimitPerMinute?: number | null;
  /** When set, overrides each client's accessTokenValiditySeconds. */
  tokenLifetimeSeconds?: number;
  /** PATCH on an ended participant/conversation: 202 and store / 409 / 400. Default 'accept'. */
  endedParticipantPatch?: EndedParticipantPatch;
  /** 'merge' (default): keys sent are set, others kept. 'replace': the sent map replaces the old one. */
  attributeMode?: AttributeMode;
  /** Milliseconds each /api/v2 request waits before it is handled (Genesys' own latency). Default 0. */
  latencyMs?: number;
  /** A conversation outside the token's role divisions: 403 `not.authorized` (default) or 404. */
  divisionRefusal?: DivisionRefusal;
  /**
   * Milliseconds before a role granted to a user (roles/users/add) shows in users/me and may be put
   * on an OAuth client (Genesys' propagation delay, §12.3). Default 0.
   */
  roleGrantDelayMs?: number;
}

export interface ResolvedOptions {
  clock: () => number;
  rateLimitPerMinute: number | null;
  tokenLifetimeSeconds: number | undefined;
  endedParticipantPatch: EndedParticipantPatch;
  attributeMode: AttributeMode;
  latencyMs: number;
  divisionRefusal: DivisionRefusal;
  roleGrantDelayMs: number;
}

export interface PermissionPolicy {
  domain: string;
  entityName: string;
  actionSet: string[];
}

export interface EmulatedOrg {
  id: string;
  name: string;
  thirdPartyOrgName: string;
  domain: string;
}

/** AuthzDivision; every org has exactly one `homeDivision`. */
export interface EmulatedDivision {
  id: string;
  orgId: string;
  name: string;
  homeDivision: boolean;
}

export interface DivisionInput {
  id?: string;
  orgId: string;
  name: string;
}

/** One role granted in one division (OAuthClientRequest.roleDivisions). */
export interface RoleDivision {
  roleId: string;
  divisionId: string;
}

export interface EmulatedUser {
  id: string;
  orgId: string;
  name: string;
  email: string;
  /** Permissions held directly (a shortcut; in real Genesys everything comes from roles). */
  permissions: string[];
  /** A user's roles apply in every division (only client-credentials grants are scoped here). */
  roleIds: string[];
  /** roleId → clock() from which the grant shows (roles/users/add under `roleGrantDelayMs`). */
  grantedAt: Record<string, number>;
}

export interface EmulatedRole {
  id: string;
  orgId: string;
  name: string;
  description: string;
  permissionPolicies: PermissionPolicy[];
  /** The policies expanded to `domain:entityName:action` strings. */
  permissions: string[];
}

export type ClientState = 'Active' | 'Disabled' | 'Inactive';

export interface EmulatedClient {
  id: string;
  orgId: string;
  name: string;
  description: string;
  secret: string;
  /** 'CLIENT-CREDENTIALS', or 'CODE' (authorization code, with or without PKCE), 'TOKEN', … */
  authorizedGrantType: string;
  /** Where /oauth/authorize may send a CODE client's users back to (exact match). */
  registeredRedirectUri: string[];
  accessTokenValiditySeconds: number;
  roleIds: string[];
  /** Where each role applies; `roleIds` alone (deprecated) means the Home division. */
  roleDivisions: RoleDivision[];
  state: ClientState;
  dateCreated: number;
}

export type Media = 'call' | 'callback' | 'chat' | 'email' | 'message';

export interface ParticipantInput {
  id?: string;
  purpose: string;
  name?: string;
  attributes?: Record<string, string>;
  ended?: boolean;
  media?: Media;
}

export interface EmulatedParticipant {
  id: string;
  purpose: string;
  name?: string;
  attributes: Record<string, string>;
  media: Media;
  /** Id of the participant's single communication (calls[0].id etc.). */
  communicationId: string;
  startTime: number;
  endTime?: number;
}

export interface EmulatedConversation {
  id: string;
  orgId: string;
  /** clock() at creation; also the conversation's startTime. */
  createdAt: number;
  /** GET/PATCH answer 404 until clock() >= visibleAt. */
  visibleAt: number;
  /** The divisions it met (queues, flows): a client needs its role in one of them. */
  divisionIds: string[];
  endTime?: number;
  participants: EmulatedParticipant[];
}

export interface ConversationInput {
  orgId: string;
  id?: string;
  visibleAfterMs?: number;
  /** Default: the org's Home division. */
  divisionIds?: string[];
  participants: ParticipantInput[];
}

export interface FaultSpec {
  method?: string;
  path: string | RegExp;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Default 1; Infinity allowed. */
  times?: number;
}

export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  /** The raw query string without the leading '?'. */
  query: string;
  /** Lower-cased names; `authorization` is redacted. */
  headers: Record<string, string>;
  body: string;
  status: number;
  orgId?: string;
  tokenKind?: 'client' | 'user';
  clientId?: string;
  userId?: string;
}

/** The OAuth client a user token claims to come from (the vendor's app in the vendor's org). */
export interface VendorApp {
  id: string;
  name: string;
  orgId: string;
  authorizedGrantType: string;
}

export interface UserTokenOptions {
  expiresInSeconds?: number;
  vendorApp?: Partial<VendorApp>;
  scopes?: string[];
}

/** Thrown by control methods on bad input; the HTTP control surface maps it to `status`. */
export class EmulatorInputError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 = 400,
  ) {
    super(message);
    this.name = 'EmulatorInputError';
  }
}

/** Control-surface inputs, shared by `GenesysEmulator` and the state it drives. */
export interface OrgInput {
  id?: string;
  name: string;
  thirdPartyOrgName?: string;
}
export interface UserInput {
  id?: string;
  orgId: string;
  name: string;
  email?: string;
  permissions?: string[];
  roleIds?: string[];
}
export interface RoleInput {
  id?: string;
  orgId: string;
  name: string;
  description?: string;
  permissions?: string[];
  permissionPolicies?: PermissionPolicy[];
}
/** `permissions` is a shortcut: a role holding them is created and assigned to the client. */
export interface ClientInput {
  id?: string;
  orgId: string;
  name?: string;
  description?: string;
  permissions?: string[];
  /** Each in the Home division, unless `divisionIds` says where (all of them). */
  roleIds?: string[];
  /** Divisions of `roleIds` and of the `permissions` role; default the Home division. */
  divisionIds?: string[];
  accessTokenValiditySeconds?: number;
  secret?: string;
  authorizedGrantType?: string;
  registeredRedirectUri?: string[];
  state?: ClientState;
}
