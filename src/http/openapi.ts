import { z } from '@hono/zod-openapi';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

const DESCRIPTIONS: Record<number, string> = {
  400: 'Bad request (malformed JSON, JSON nested over 64 levels, unlisted environment, missing header)',
  401: 'Missing, invalid or expired credentials',
  403: 'The role or permission is missing',
  404: 'Not found (also any id of another org)',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  415: 'Body is not JSON',
  422: 'Does not validate; `errors` lists every problem with its path',
  502: 'Genesys Cloud did not answer usefully; nothing was changed',
  503: 'Not ready',
};

/** The problem+json responses a route may give, for its OpenAPI entry. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: DESCRIPTIONS[s] ?? 'Error',
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  );
}

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonRequest = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { 'application/json': { schema } } },
});

/** Our admin session JWT, or a Genesys user token where a route says so. */
export const SESSION_SECURITY = [{ session: [] }];
export const GENESYS_USER_SECURITY = [{ genesysUserToken: [] }];

export const SECURITY_SCHEMES = {
  session: {
    type: 'http' as const,
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The token from POST /v1/session (1 h).',
  },
  genesysUserToken: {
    type: 'http' as const,
    scheme: 'bearer',
    description: 'A Genesys Cloud user access token (implicit or PKCE grant of the app’s OAuth client).',
  },
};

/** JSON body limit of admin routes (rules and settings are small). */
export const ADMIN_BODY_LIMIT = 256 * 1024;
