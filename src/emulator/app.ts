import { Hono } from 'hono';
import { registerClients } from './api-clients.js';
import { registerConversations } from './api-conversations.js';
import { registerRoles } from './api-roles.js';
import { registerAuthorize } from './authorize.js';
import { type ControlTarget, controlRouter } from './control.js';
import type { EmuEnv, EmulatorCore } from './core.js';
import { cors } from './cors.js';
import { apiError, jsonResponse } from './errors.js';
import { registerIdentity } from './identity.js';
import { registerOAuth } from './oauth.js';
import { auth, correlation, faults, latency, recorder } from './pipeline.js';

/**
 * One app for both hosts: the login host's /oauth/authorize and /oauth/token and the API host's
 * /api/v2, plus the emulator's own control surface under /__emulator (never recorded, never faulted).
 * Middleware order matters: CORS (preflights end there) → record → correlation id → latency →
 * faults → auth + rate limit → route.
 */
export function createApp(core: EmulatorCore, target: ControlTarget): Hono<EmuEnv> {
  const app = new Hono<EmuEnv>();
  app.use('*', cors());
  app.use('*', recorder(core));
  app.use('/api/v2/*', correlation());
  app.use('/api/v2/*', latency(core));
  app.use('*', faults(core));
  app.use('/api/v2/*', auth(core));

  app.route('/__emulator', controlRouter(target));
  registerOAuth(app, core);
  registerAuthorize(app, core);
  registerIdentity(app, core);
  registerConversations(app, core);
  registerRoles(app, core);
  registerClients(app, core);

  app.notFound((c) => {
    if (c.req.path.startsWith('/api/v2/')) return apiError(c, 404, 'not.found', 'No such API route.');
    return jsonResponse(404, { message: `No route ${c.req.method} ${c.req.path}` });
  });
  app.onError((err, c) => {
    console.error('genesys emulator: unhandled error', err);
    return apiError(c, 500);
  });
  return app;
}
