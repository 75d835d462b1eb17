import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { createApp } from './app.js';
import { AuthorizationCodes } from './codes.js';
import { ConversationState } from './conversations.js';
import type { EmulatorCore } from './core.js';
import { FaultStore } from './faults.js';
import { IdentityState } from './state.js';
import { DEFAULT_TOKEN_SECONDS, DEFAULT_VENDOR_APP } from './tokens.js';
import type {
  ClientInput,
  ClientState,
  ConversationInput,
  DivisionInput,
  EmulatedConversation,
  EmulatedDivision,
  EmulatedOrg,
  EmulatedParticipant,
  EmulatedRole,
  EmulatedUser,
  EmulatorOptions,
  FaultSpec,
  OrgInput,
  ParticipantInput,
  RecordedRequest,
  ResolvedOptions,
  RoleInput,
  UserInput,
  UserTokenOptions,
} from './types.js';

export type * from './types.js';
export { EmulatorInputError } from './types.js';

export interface RunningEmulator {
  /** Like http://127.0.0.1:PORT (no trailing slash); serves both /oauth/token and /api/v2. */
  url: string;
  close(): Promise<void>;
}

/** The emulator's settings as JSON (the clock is a function, so it is left out). */
export type EmulatorConfig = Omit<ResolvedOptions, 'clock'>;

const DEFAULTS: ResolvedOptions = {
  clock: () => Date.now(),
  rateLimitPerMinute: 300,
  tokenLifetimeSeconds: undefined,
  endedParticipantPatch: 'accept',
  attributeMode: 'merge',
  latencyMs: 0,
  divisionRefusal: 403,
  roleGrantDelayMs: 0,
};

/**
 * An in-memory Genesys Cloud (login host + API host) for tests and demos. Orgs are isolated: every
 * API lookup is scoped to the org of the calling token. Facts: ../shared/genesys/README.md.
 */
export class GenesysEmulator {
  readonly fetch: (req: Request) => Response | Promise<Response>;
  private readonly options: ResolvedOptions = { ...DEFAULTS };
  private readonly core: EmulatorCore;
  /** Added to clock(); lets the HTTP control surface move time in a separate process. */
  private offsetMs = 0;

  constructor(options: EmulatorOptions = {}) {
    this.configure(options);
    const now = () => this.options.clock() + this.offsetMs;
    this.core = {
      identity: new IdentityState(now, () => this.options.roleGrantDelayMs),
      codes: new AuthorizationCodes(now),
      conversations: new ConversationState(now),
      faults: new FaultStore(),
      requests: [],
      options: this.options,
      now,
    };
    const app = createApp(this.core, this);
    this.fetch = (req) => app.fetch(req);
  }

  /** Only the keys present change; a key present with value undefined goes back to its default. */
  configure(options: Partial<EmulatorOptions>): void {
    const target = this.options as unknown as Record<string, unknown>;
    for (const key of Object.keys(DEFAULTS) as (keyof ResolvedOptions)[]) {
      if (key in options) target[key] = options[key] === undefined ? DEFAULTS[key] : options[key];
    }
  }

  config(): EmulatorConfig {
    const { clock: _clock, ...rest } = this.options;
    return { ...rest };
  }

  /** Moves the emulator's time forward (on top of the clock option). */
  advanceClock(ms: number): void {
    this.offsetMs += ms;
  }

  async listen(opts: { port?: number; host?: string } = {}): Promise<RunningEmulator> {
    const host = opts.host ?? '127.0.0.1';
    const server = createAdaptorServer({ fetch: this.fetch, overrideGlobalObjects: false }) as Server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
    const close = () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets from clients would otherwise hold close() open.
        server.closeAllConnections();
      });
    return { url, close };
  }

  // --- control -------------------------------------------------------------------------------

  createOrg(input: OrgInput): EmulatedOrg {
    return this.core.identity.createOrg(input);
  }

  /** A division besides the org's Home division (which every org has from the start). */
  createDivision(input: DivisionInput): EmulatedDivision {
    return this.core.identity.createDivision(input);
  }

  listDivisions(orgId: string): EmulatedDivision[] {
    this.core.identity.requireOrg(orgId);
    return this.core.identity.listDivisions(orgId);
  }

  /** The premium-app products the org bought (licensing); replaces what it had. */
  setProducts(orgId: string, productIds: readonly string[]): { orgId: string; products: string[] } {
    this.core.identity.requireOrg(orgId);
    this.core.identity.products.set(orgId, [...productIds]);
    return { orgId, products: [...productIds] };
  }

  createUser(input: UserInput): EmulatedUser {
    return this.core.identity.createUser(input);
  }

  /** A user (implicit/PKCE-like) access token; tokens/me reports `opts.vendorApp` as its OAuthClient. */
  createUserToken(userId: string, opts: UserTokenOptions = {}): string {
    const lifetime = opts.expiresInSeconds ?? this.options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_SECONDS;
    const app = { ...DEFAULT_VENDOR_APP, ...opts.vendorApp };
    return this.core.identity.issueUserToken(userId, lifetime, app, opts.scopes ?? []).token;
  }

  createRole(input: RoleInput): EmulatedRole {
    return this.core.identity.createRole(input);
  }

  /** `permissions` is a shortcut: a role holding them is created and assigned to the client. */
  createClient(input: ClientInput): { id: string; secret: string } {
    const client = this.core.identity.createClient(input);
    return { id: client.id, secret: client.secret };
  }

  /** Disabled/Inactive also revokes the client's live tokens, for good. */
  setClientState(clientId: string, state: ClientState): void {
    this.core.identity.setClientState(clientId, state);
  }

  deleteClient(clientId: string): void {
    this.core.identity.deleteClient(clientId);
  }

  revokeToken(token: string): void {
    this.core.identity.tokens.revoke(token);
  }

  createConversation(input: ConversationInput): EmulatedConversation {
    this.core.identity.requireOrg(input.orgId);
    const divisionIds = this.core.identity.requireDivisions(input.orgId, input.divisionIds);
    return this.core.conversations.create({ ...input, divisionIds });
  }

  addParticipant(conversationId: string, p: ParticipantInput): EmulatedParticipant {
    return this.core.conversations.addParticipant(conversationId, p);
  }

  /** Sets endTime (communication disconnected by 'client'); ending the last one ends the conversation. */
  endParticipant(conversationId: string, participantId: string): void {
    this.core.conversations.endParticipant(conversationId, participantId);
  }

  endConversation(conversationId: string): void {
    this.core.conversations.endConversation(conversationId);
  }

  /** A snapshot (later changes do not show in it). */
  getConversation(conversationId: string): EmulatedConversation | undefined {
    return this.core.conversations.get(conversationId);
  }

  injectFault(f: FaultSpec): void {
    this.core.faults.inject(f);
  }

  clearFaults(): void {
    this.core.faults.clear();
  }

  /** Every non-control request in arrival order (live array; `status` is set once answered). */
  get requests(): RecordedRequest[] {
    return this.core.requests;
  }

  clearRequests(): void {
    this.core.requests.length = 0;
  }

  listOAuthClients(orgId: string): Array<{
    id: string;
    name: string;
    state: string;
    roleIds: string[];
    roleDivisions: Array<{ roleId: string; divisionId: string }>;
  }> {
    return [...this.core.identity.clients.values()]
      .filter((c) => c.orgId === orgId)
      .map((c) => ({
        id: c.id,
        name: c.name,
        state: c.state,
        roleIds: [...c.roleIds],
        roleDivisions: c.roleDivisions.map((rd) => ({ ...rd })),
      }));
  }

  listRoles(orgId: string): EmulatedRole[] {
    return this.core.identity.listRoles(orgId);
  }
}
