import type { MiddlewareHandler } from 'hono';
import type { Sessions } from '../crypto/sessions.js';
import { bearerToken } from '../http/auth.js';
import type { HttpEnv } from '../http/middleware.js';
import type { Clock } from '../lib/clock.js';
import { AppError, forbidden } from '../lib/errors.js';
import type { RequestContext } from '../tenants/context.js';
import type { Role } from '../tenants/permissions.js';
import type { TenantStore } from '../tenants/store.js';

/**
 * The app's Hono variables: the HTTP layer's (`requestId`) and, on routes behind `requireSession`,
 * the admin request's context that the verbs take.
 */
export type AppEnv = { Variables: HttpEnv['Variables'] & { ctx: RequestContext } };

const unauthorized = (detail: string) =>
  new AppError('unauthorized', detail, { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });

/**
 * The admin session (our JWT) and the role a route needs, in one place. A session whose org was
 * uninstalled (or uninstalled and installed again) is refused: it names the installation it was
 * issued for. Viewers reaching a route that needs `admin` get 403.
 */
export function requireSession(
  deps: { sessions: Sessions; tenants: TenantStore; clock: Clock },
  minimum: Role,
): MiddlewareHandler<AppEnv> {
  return async function requireSession(c, next) {
    const now = deps.clock.now();
    const claims = await deps.sessions.verify(bearerToken(c, 'the session token from POST /v1/session'), now);
    if (!claims) throw unauthorized('The session token is invalid or has expired; sign in again.');
    const tenant = await deps.tenants.get(claims.orgId);
    if (!tenant || tenant.installedAt !== claims.installedAt) {
      throw unauthorized('This session ended: the org was uninstalled. Sign in again.');
    }
    if (minimum === 'admin' && claims.role !== 'admin') {
      throw forbidden('This needs the integration:attributeRelay:admin permission; viewers may only read.');
    }
    c.set('ctx', {
      tenant,
      actor: { type: 'user', id: claims.userId, name: claims.userName },
      role: claims.role,
      now,
      requestId: c.get('requestId'),
    });
    await next();
  };
}
