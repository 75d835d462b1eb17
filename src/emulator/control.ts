import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { EmuEnv } from './core.js';
import { jsonResponse } from './errors.js';
import type { GenesysEmulator } from './index.js';
import { EmulatorInputError } from './types.js';

/** The in-process methods the HTTP control surface exposes. */
export type ControlTarget = Pick<
  GenesysEmulator,
  | 'createOrg'
  | 'createDivision'
  | 'listDivisions'
  | 'setProducts'
  | 'createUser'
  | 'createUserToken'
  | 'createRole'
  | 'createClient'
  | 'setClientState'
  | 'deleteClient'
  | 'revokeToken'
  | 'createConversation'
  | 'addParticipant'
  | 'endParticipant'
  | 'endConversation'
  | 'getConversation'
  | 'injectFault'
  | 'clearFaults'
  | 'requests'
  | 'clearRequests'
  | 'listOAuthClients'
  | 'listRoles'
  | 'configure'
  | 'config'
  | 'advanceClock'
>;

const str = z.string().min(1);
const policy = z.object({ domain: str, entityName: str, actionSet: z.array(str) });
const participant = z.object({
  id: str.optional(),
  purpose: str,
  name: z.string().optional(),
  attributes: z.record(z.string(), z.string()).optional(),
  ended: z.boolean().optional(),
  media: z.enum(['call', 'callback', 'chat', 'email', 'message']).optional(),
});
const clientState = z.enum(['Active', 'Disabled', 'Inactive']);

const schemas = {
  org: z.object({ id: str.optional(), name: str, thirdPartyOrgName: str.optional() }),
  user: z.object({
    id: str.optional(),
    orgId: str,
    name: str,
    email: str.optional(),
    permissions: z.array(str).optional(),
    roleIds: z.array(str).optional(),
  }),
  userToken: z.object({
    expiresInSeconds: z.number().positive().optional(),
    vendorApp: z.object({ id: str, name: str, orgId: str, authorizedGrantType: str }).partial().optional(),
    scopes: z.array(str).optional(),
  }),
  role: z.object({
    id: str.optional(),
    orgId: str,
    name: str,
    description: z.string().optional(),
    permissions: z.array(str).optional(),
    permissionPolicies: z.array(policy).optional(),
  }),
  client: z.object({
    id: str.optional(),
    orgId: str,
    name: str.optional(),
    permissions: z.array(str).optional(),
    roleIds: z.array(str).optional(),
    divisionIds: z.array(str).optional(),
    accessTokenValiditySeconds: z.number().int().positive().optional(),
    secret: str.optional(),
    authorizedGrantType: z
      .enum(['CLIENT-CREDENTIALS', 'CODE', 'TOKEN', 'SAML2BEARER', 'PASSWORD'])
      .optional(),
    registeredRedirectUri: z.array(str).optional(),
    state: clientState.optional(),
  }),
  state: z.object({ state: clientState }),
  revoke: z.object({ token: str }),
  conversation: z.object({
    orgId: str,
    id: str.optional(),
    visibleAfterMs: z.number().nonnegative().optional(),
    divisionIds: z.array(str).optional(),
    participants: z.array(participant),
  }),
  // JSON has no Infinity and no RegExp: `times: "Infinity"`, `pathRegex: "^/api/v2/.*"`.
  fault: z
    .object({
      method: str.optional(),
      path: str.optional(),
      pathRegex: str.optional(),
      status: z.number().int().min(100).max(599),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
      times: z.union([z.number().int().positive(), z.literal('Infinity')]).optional(),
    })
    .refine(
      (f) => (f.path === undefined) !== (f.pathRegex === undefined),
      'give exactly one of path, pathRegex',
    ),
  config: z.object({
    rateLimitPerMinute: z.number().int().positive().nullable().optional(),
    tokenLifetimeSeconds: z.number().int().positive().optional(),
    endedParticipantPatch: z.enum(['accept', 'conflict', 'bad_request']).optional(),
    attributeMode: z.enum(['merge', 'replace']).optional(),
    latencyMs: z.number().int().nonnegative().max(60_000).optional(),
    divisionRefusal: z.union([z.literal(403), z.literal(404)]).optional(),
    roleGrantDelayMs: z.number().int().nonnegative().max(3_600_000).optional(),
  }),
  division: z.object({ id: str.optional(), name: str }),
  advance: z.object({ ms: z.number().int().nonnegative() }),
  products: z.object({ products: z.array(str).max(100) }),
};

type Handler = (c: Context<EmuEnv>) => unknown;

/** Thin JSON wrappers over the in-process API, for processes that cannot call it directly. */
export function controlRouter(emu: ControlTarget): Hono<EmuEnv> {
  const r = new Hono<EmuEnv>();
  const route = (
    method: 'get' | 'post' | 'put' | 'patch' | 'delete',
    path: string,
    status: number,
    fn: Handler,
  ) => r[method](path, (c) => respond(c, status, fn));
  const p = (c: Context<EmuEnv>, name: string): string => c.req.param(name) ?? '';

  route('post', '/orgs', 201, (c) => emu.createOrg(parse(c, schemas.org)));
  route('put', '/orgs/:orgId/products', 200, (c) =>
    emu.setProducts(p(c, 'orgId'), parse(c, schemas.products).products),
  );
  route('post', '/orgs/:orgId/divisions', 201, (c) =>
    emu.createDivision({ ...parse(c, schemas.division), orgId: p(c, 'orgId') }),
  );
  route('get', '/orgs/:orgId/divisions', 200, (c) => emu.listDivisions(p(c, 'orgId')));
  route('get', '/orgs/:orgId/roles', 200, (c) => emu.listRoles(p(c, 'orgId')));
  route('get', '/orgs/:orgId/clients', 200, (c) => emu.listOAuthClients(p(c, 'orgId')));
  route('post', '/users', 201, (c) => emu.createUser(parse(c, schemas.user)));
  route('post', '/users/:userId/tokens', 201, (c) => ({
    token: emu.createUserToken(p(c, 'userId'), parse(c, schemas.userToken, true)),
  }));
  route('post', '/roles', 201, (c) => emu.createRole(parse(c, schemas.role)));
  route('post', '/clients', 201, (c) => emu.createClient(parse(c, schemas.client)));
  route('put', '/clients/:clientId/state', 200, (c) =>
    emu.setClientState(p(c, 'clientId'), parse(c, schemas.state).state),
  );
  route('delete', '/clients/:clientId', 200, (c) => emu.deleteClient(p(c, 'clientId')));
  route('post', '/tokens/revoke', 200, (c) => emu.revokeToken(parse(c, schemas.revoke).token));
  route('post', '/conversations', 201, (c) => emu.createConversation(parse(c, schemas.conversation)));
  route('get', '/conversations/:id', 200, (c) => {
    const conversation = emu.getConversation(p(c, 'id'));
    if (!conversation) throw new EmulatorInputError(`unknown conversation ${p(c, 'id')}`, 404);
    return conversation;
  });
  route('post', '/conversations/:id/participants', 201, (c) =>
    emu.addParticipant(p(c, 'id'), parse(c, participant)),
  );
  route('post', '/conversations/:id/end', 200, (c) => emu.endConversation(p(c, 'id')));
  route('post', '/conversations/:id/participants/:pid/end', 200, (c) =>
    emu.endParticipant(p(c, 'id'), p(c, 'pid')),
  );
  route('post', '/faults', 201, (c) => {
    const { pathRegex, path, times, ...rest } = parse(c, schemas.fault);
    emu.injectFault({
      ...rest,
      path: pathRegex !== undefined ? new RegExp(pathRegex) : (path ?? ''),
      times: times === 'Infinity' ? Number.POSITIVE_INFINITY : times,
    });
  });
  route('delete', '/faults', 200, () => emu.clearFaults());
  // `?from=N`: only the requests after the first N (a long run's poller reads what is new).
  route('get', '/requests', 200, (c) => {
    const from = Number(c.req.query('from') ?? 0);
    return Number.isSafeInteger(from) && from > 0 ? emu.requests.slice(from) : emu.requests;
  });
  route('delete', '/requests', 200, () => emu.clearRequests());
  route('get', '/config', 200, () => emu.config());
  route('patch', '/config', 200, (c) => {
    emu.configure(parse(c, schemas.config));
    return emu.config();
  });
  route('post', '/clock/advance', 200, (c) => emu.advanceClock(parse(c, schemas.advance).ms));
  return r;
}

function parse<S extends z.ZodType>(c: Context<EmuEnv>, schema: S, optional = false): z.infer<S> {
  const raw = c.var.rawBody;
  let value: unknown = {};
  if (raw.trim() !== '' || !optional) {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new EmulatorInputError('body must be JSON');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EmulatorInputError(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

function respond(c: Context<EmuEnv>, status: number, fn: Handler): Response {
  try {
    const result = fn(c);
    return jsonResponse(status, result === undefined ? { ok: true } : result);
  } catch (err) {
    if (err instanceof EmulatorInputError) return jsonResponse(err.status, { message: err.message });
    throw err;
  }
}
