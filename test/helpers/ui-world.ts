import { once } from 'node:events';
import { createServer } from 'node:net';
import { GenesysEmulator } from '../../src/emulator/index.js';
import { startTestApp } from './app.js';
import { ManualClock } from './clock.js';
import { caller, type World } from './world.js';

export interface UiWorld extends World {
  /** The app's own PKCE client in the emulator (GENESYS_OAUTH_CLIENT_ID). */
  readonly clientId: string;
  /** The page as Genesys Cloud opens it (Client Application URL with its query). */
  readonly pageUrl: string;
}

/**
 * The relay and the emulator for browser tests: the app on a port chosen first (its PUBLIC_URL is
 * the PKCE redirect URI registered on the emulator's CODE client), the delivery worker running,
 * and a manual clock set to now (the browser and the emulator's tokens see real dates).
 */
export async function startUiWorld(opts: { env?: Record<string, string> } = {}): Promise<UiWorld> {
  const clock = new ManualClock(Date.now());
  const emu = new GenesysEmulator({ clock: clock.now });
  const emuServer = await emu.listen({ port: 0, host: '127.0.0.1' });
  const port = await freePort('127.0.0.1');
  const publicUrl = `http://127.0.0.1:${port}`;
  const vendor = emu.createOrg({ name: 'attribute-relay vendor' });
  const client = emu.createClient({
    orgId: vendor.id,
    name: 'attribute-relay',
    authorizedGrantType: 'CODE',
    registeredRedirectUri: [`${publicUrl}/`],
  });
  const app = await startTestApp({
    genesysBaseUrl: emuServer.url,
    clock,
    port,
    delivery: true,
    env: { PUBLIC_URL: publicUrl, GENESYS_OAUTH_CLIENT_ID: client.id, ...opts.env },
  });
  return {
    clock,
    emu,
    app,
    clientId: client.id,
    pageUrl: `${app.url}/?gcHostOrigin=${encodeURIComponent('https://apps.mypurecloud.com')}&gcTargetEnv=prod&langTag=en-us`,
    call: caller(app.url),
    close: async () => {
      await app.close();
      await emuServer.close();
    },
  };
}

/** A port free right now on the host (the app binds it moments later). */
async function freePort(host: string): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
