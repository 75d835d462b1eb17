import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Config } from '../config.js';
import { appsOrigin, ENVIRONMENT_NAMES } from '../genesys/client-app-env.js';
import { ENVIRONMENTS, hostsFor } from '../genesys/regions.js';
import { json } from '../http/openapi.js';
import type { AppEnv } from '../sessions/require-session.js';

const EnvironmentInfo = z.object({
  environment: z.string().openapi({ example: 'mypurecloud.ie' }),
  name: z.string().nullable().openapi({ example: 'prod-euw1' }),
  loginUrl: z.string().openapi({ example: 'https://login.mypurecloud.ie' }),
  apiUrl: z.string().openapi({ example: 'https://api.mypurecloud.ie' }),
  appsOrigin: z.string().openapi({ example: 'https://apps.mypurecloud.ie' }),
});

const UiConfig = z
  .object({
    oauthClientId: z.string().nullable(),
    /** What the operator must set before anyone can sign in; empty when nothing is missing. */
    missing: z.array(z.object({ variable: z.string(), why: z.string() })),
    redirectUri: z.string(),
    environments: z.array(EnvironmentInfo),
    features: z.object({ auditExport: z.boolean() }),
  })
  .openapi('UiConfig');

export type UiConfigBody = z.infer<typeof UiConfig>;

/**
 * GET /v1/ui-config: what the admin page needs before anyone signs in (no secrets, no auth): our
 * OAuth client id for the PKCE login, where each environment logs in, and what is missing.
 */
export function registerUiConfigRoute(app: OpenAPIHono<AppEnv>, deps: { config: Config }): void {
  const body = uiConfig(deps.config);
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/ui-config',
      tags: ['admin UI'],
      summary: 'What the admin page needs before sign-in: OAuth client id, environments, redirect URI',
      responses: { 200: json(UiConfig, 'The page’s configuration') },
    }),
    (c) => c.json(body, 200, { 'cache-control': 'no-cache' }),
  );
}

export function uiConfig(config: Config): UiConfigBody {
  const clientId = config.genesys.oauthClientId ?? null;
  const names = Object.fromEntries(Object.entries(ENVIRONMENT_NAMES).map(([name, env]) => [env, name]));
  return {
    oauthClientId: clientId,
    missing: clientId
      ? []
      : [
          {
            variable: 'GENESYS_OAUTH_CLIENT_ID',
            why: 'the id of the app’s own OAuth client (grant type: Code Authorization with PKCE, redirect URI below), so admins can sign in',
          },
        ],
    redirectUri: `${config.http.publicUrl.replace(/\/$/, '')}/`,
    environments: ENVIRONMENTS.map((environment) => {
      const hosts = hostsFor(environment, config.genesys.baseUrl)!;
      return {
        environment,
        name: names[environment] ?? null,
        loginUrl: hosts.login,
        apiUrl: hosts.api,
        appsOrigin: appsOrigin(environment),
      };
    }),
    features: { auditExport: true },
  };
}
