import type { Dispatcher } from 'undici';
import { type Clock, systemClock } from '../lib/clock.js';
import { type Failure, failure, type Outcome } from './outcome.js';
import { hostsFor } from './regions.js';
import type { SharedTokens } from './shared-tokens.js';
import {
  type Credentials,
  type CredentialsProvider,
  TokenCache,
  type TokenGrant,
  type TokenObserver,
} from './token-cache.js';
import { createAgent, DEFAULT_TIMEOUTS, type HttpCall, send, type Timeouts, toOutcome } from './transport.js';
import {
  type Conversation,
  ConversationSchema,
  type Division,
  DivisionPageSchema,
  type NewOAuthClient,
  type NewRole,
  type OAuthClient,
  OAuthClientSchema,
  type Organization,
  OrganizationSchema,
  ProductListSchema,
  type Role,
  RolePageSchema,
  RoleSchema,
  type TokenInfo,
  TokenInfoSchema,
  type UserMe,
  UserMeSchema,
} from './types.js';

/** The Genesys Cloud operations we use, each answering a classified `Outcome`, never throwing. */
export interface GenesysApi {
  organizationsMe(): Promise<Outcome<Organization>>;
  tokensMe(): Promise<Outcome<TokenInfo>>;
  /** The products the org bought (ids, and names where given): "requires no permissions". */
  products(): Promise<Outcome<string[]>>;
  /** Every division of the org ("requires no permissions"), all pages. */
  divisions(): Promise<Outcome<Division[]>>;
  /** User tokens only (Genesys refuses client-credentials tokens here). */
  usersMe(expand?: readonly string[]): Promise<Outcome<UserMe>>;
  getConversation(conversationId: string): Promise<Outcome<Conversation>>;
  /** The generic endpoint; body exactly `{"attributes":{…}}`; 202 with no body. */
  patchParticipantAttributes(
    conversationId: string,
    participantId: string,
    attributes: Readonly<Record<string, string>>,
  ): Promise<Outcome<void>>;
  createRole(role: NewRole): Promise<Outcome<Role>>;
  /** The org's role with exactly this name (Genesys filters by name; we compare exactly). */
  findRoleByName(name: string): Promise<Outcome<Role | undefined>>;
  deleteRole(roleId: string): Promise<Outcome<void>>;
  addRoleUsers(roleId: string, userIds: readonly string[]): Promise<Outcome<void>>;
  /** The answer carries the client's `secret`, shown by Genesys only here. */
  createOAuthClient(client: NewOAuthClient): Promise<Outcome<OAuthClient>>;
  updateOAuthClient(clientId: string, client: NewOAuthClient): Promise<Outcome<OAuthClient>>;
  deleteOAuthClient(clientId: string): Promise<Outcome<void>>;
}

export interface GenesysClientOptions {
  /** `GENESYS_BASE_URL`: every environment's login and API calls go here (the emulator). */
  baseUrl?: string | undefined;
  credentials: CredentialsProvider;
  clock?: Clock;
  /** Defaults to an `Agent` of our own with `timeouts`; closed by `close()` only if ours. */
  dispatcher?: Dispatcher;
  timeouts?: Timeouts;
  /** Every request sent (or refused before sending): metrics. */
  onCall?: (operation: string, status: number | 'error', durationMs: number) => void;
  onToken?: TokenObserver;
  /** Several instances on one database: each org's token fetched once for all of them. */
  sharedTokens?: SharedTokens;
}

interface Endpoint<T> {
  readonly operation: string;
  readonly method: HttpCall['method'];
  /** Below the API base, starting with `/api/v2/`. */
  readonly path: string;
  readonly body?: unknown;
  readonly parse: (text: string) => T;
}

type Execute = <T>(endpoint: Endpoint<T>) => Promise<Outcome<T>>;

const USER_AGENT = 'attribute-relay/0.1';

/**
 * The only door to Genesys Cloud. `forOrg(orgId)` authenticates with the org's cached
 * client-credentials token (a 401 drops it, fetches one, and retries once); `withToken` uses a
 * given token (an admin's user token, or a grant being verified before it is stored).
 */
export class GenesysClient {
  readonly tokens: TokenCache;
  private readonly clock: Clock;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;

  constructor(private readonly options: GenesysClientOptions) {
    this.clock = options.clock ?? systemClock;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? createAgent(options.timeouts ?? DEFAULT_TIMEOUTS);
    this.tokens = new TokenCache({
      credentials: options.credentials,
      fetchToken: (c) => this.requestToken(c),
      clock: this.clock,
      ...(options.onToken ? { observer: options.onToken } : {}),
      ...(options.sharedTokens ? { shared: options.sharedTokens } : {}),
    });
  }

  /** `POST https://login.{env}/oauth/token` with Basic auth and `grant_type=client_credentials`. */
  async requestToken(credentials: Credentials): Promise<Outcome<TokenGrant>> {
    const hosts = hostsFor(credentials.environment, this.options.baseUrl);
    if (!hosts) return unknownEnvironment(credentials.environment);
    const basic = Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64');
    return this.timed(
      'token',
      {
        method: 'POST',
        url: `${hosts.login}/oauth/token`,
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          'user-agent': USER_AGENT,
        },
        body: 'grant_type=client_credentials',
      },
      parseTokenGrant,
    );
  }

  withToken(environment: string, token: string): GenesysApi {
    return buildApi((endpoint) => this.call(environment, token, endpoint));
  }

  forOrg(orgId: string): GenesysApi {
    return buildApi(async (endpoint) => {
      const first = await this.tokens.get(orgId);
      if ('kind' in first) return first;
      const outcome = await this.call(first.environment, first.token, endpoint);
      if (outcome.kind !== 'unauthorized' || outcome.status !== 401) return outcome;
      // Expired or revoked under us: drop exactly that token, get one (single-flight), retry once.
      this.tokens.invalidate(orgId, first.token);
      const second = await this.tokens.get(orgId);
      if ('kind' in second) return second;
      return this.call(second.environment, second.token, endpoint);
    });
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private call<T>(environment: string, token: string, e: Endpoint<T>): Promise<Outcome<T>> {
    const hosts = hostsFor(environment, this.options.baseUrl);
    if (!hosts) return Promise.resolve(unknownEnvironment(environment));
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'user-agent': USER_AGENT,
    };
    if (e.body !== undefined) headers['content-type'] = 'application/json';
    const body = e.body === undefined ? undefined : JSON.stringify(e.body);
    return this.timed(
      e.operation,
      { method: e.method, url: `${hosts.api}${e.path}`, headers, ...(body ? { body } : {}) },
      e.parse,
    );
  }

  private async timed<T>(operation: string, call: HttpCall, parse: (text: string) => T): Promise<Outcome<T>> {
    const started = performance.now();
    const raw = await send(this.dispatcher, call);
    this.options.onCall?.(
      operation,
      'status' in raw && raw.status !== undefined ? raw.status : 'error',
      performance.now() - started,
    );
    return toOutcome(raw, this.clock, parse);
  }
}

function buildApi(execute: Execute): GenesysApi {
  return {
    organizationsMe: () =>
      execute(get('organizationsMe', '/api/v2/organizations/me', OrganizationSchema.parse)),
    tokensMe: () => execute(get('tokensMe', '/api/v2/tokens/me', TokenInfoSchema.parse)),
    products: () =>
      execute(
        get('products', '/api/v2/authorization/products?pageSize=500', (t) => ProductListSchema.parse(t)),
      ),
    divisions: () => allPages(execute),
    usersMe: (expand = ['authorization', 'organization']) => {
      const query = expand.map((x) => `expand=${encodeURIComponent(x)}`).join('&');
      return execute(get('usersMe', `/api/v2/users/me${query ? `?${query}` : ''}`, UserMeSchema.parse));
    },
    getConversation: (id) =>
      withIds([id], () =>
        execute(get('getConversation', `/api/v2/conversations/${id}`, ConversationSchema.parse)),
      ),
    patchParticipantAttributes: (conversationId, participantId, attributes) =>
      withIds([conversationId, participantId], () =>
        execute({
          operation: 'patchParticipantAttributes',
          method: 'PATCH',
          path: `/api/v2/conversations/${conversationId}/participants/${participantId}/attributes`,
          body: { attributes },
          parse: () => undefined,
        }),
      ),
    createRole: (role) =>
      execute({
        operation: 'createRole',
        method: 'POST',
        path: '/api/v2/authorization/roles',
        body: role,
        parse: json(RoleSchema.parse),
      }),
    findRoleByName: (name) =>
      execute(
        get(
          'findRoleByName',
          `/api/v2/authorization/roles?name=${encodeURIComponent(name)}&pageSize=25`,
          (v) => RolePageSchema.parse(v).entities.find((r) => r.name === name),
        ),
      ),
    deleteRole: (roleId) =>
      withIds([roleId], () =>
        execute({
          operation: 'deleteRole',
          method: 'DELETE',
          path: `/api/v2/authorization/roles/${roleId}`,
          parse: () => undefined,
        }),
      ),
    addRoleUsers: (roleId, userIds) =>
      withIds([roleId, ...userIds], () =>
        execute({
          operation: 'addRoleUsers',
          method: 'PUT',
          path: `/api/v2/authorization/roles/${roleId}/users/add`,
          body: userIds,
          parse: () => undefined,
        }),
      ),
    createOAuthClient: (client) =>
      execute({
        operation: 'createOAuthClient',
        method: 'POST',
        path: '/api/v2/oauth/clients',
        body: client,
        parse: json(OAuthClientSchema.parse),
      }),
    updateOAuthClient: (id, client) =>
      withIds([id], () =>
        execute({
          operation: 'updateOAuthClient',
          method: 'PUT',
          path: `/api/v2/oauth/clients/${id}`,
          body: client,
          parse: json(OAuthClientSchema.parse),
        }),
      ),
    deleteOAuthClient: (id) =>
      withIds([id], () =>
        execute({
          operation: 'deleteOAuthClient',
          method: 'DELETE',
          path: `/api/v2/oauth/clients/${id}`,
          parse: () => undefined,
        }),
      ),
  };
}

/** Orgs have at most a few hundred divisions (Genesys' default limit is 100); 10 pages is plenty. */
async function allPages(execute: Execute): Promise<Outcome<Division[]>> {
  const all: Division[] = [];
  for (let page = 1; ; page++) {
    const path = `/api/v2/authorization/divisions?pageSize=100&pageNumber=${page}`;
    const got = await execute(get('divisions', path, DivisionPageSchema.parse));
    if (got.kind !== 'ok') return got;
    all.push(...got.value.entities);
    const last = got.value.entities.length < 100 || page >= (got.value.pageCount ?? 1) || page === 10;
    if (last) return { ...got, value: all };
  }
}

function get<T>(operation: string, path: string, parse: (v: unknown) => T): Endpoint<T> {
  return { operation, method: 'GET', path, parse: json(parse) };
}

function json<T>(parse: (v: unknown) => T): (text: string) => T {
  return (text) => parse(JSON.parse(text));
}

/**
 * Ids come from events (outside input) and go into URL paths: only plain segments pass, so an id
 * such as `../../oauth/clients` can never reach another endpoint. Genesys ids are UUIDs.
 */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;

function withIds<T>(ids: readonly string[], run: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
  const bad = ids.find((id) => !SAFE_ID.test(id));
  if (bad === undefined) return run();
  return Promise.resolve(
    failure('permanent', 'invalid.id', `not a valid Genesys id: ${JSON.stringify(bad.slice(0, 80))}`),
  );
}

function unknownEnvironment(environment: string): Failure {
  return failure(
    'permanent',
    'environment.unknown',
    `not a Genesys Cloud environment: ${JSON.stringify(environment)}`,
  );
}

function parseTokenGrant(text: string): TokenGrant {
  const body = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
  if (typeof body.access_token !== 'string' || body.access_token === '') throw new Error('no access_token');
  const expires = Number(body.expires_in);
  // Genesys' default lifetime is 24 h; an absent value is treated as the minimum it allows (5 min).
  return {
    accessToken: body.access_token,
    expiresInSeconds: Number.isFinite(expires) && expires > 0 ? expires : 300,
  };
}
