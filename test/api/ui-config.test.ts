import { afterEach, describe, expect, it } from 'vitest';
import { ENVIRONMENTS } from '../../src/genesys/regions.js';
import type { UiConfigBody } from '../../src/ui/config-route.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let app: TestApp | undefined;
afterEach(() => app?.close());

const get = async (a: TestApp) => {
  const res = await fetch(`${a.url}/v1/ui-config`);
  expect(res.status).toBe(200);
  return (await res.json()) as UiConfigBody;
};

describe('GET /v1/ui-config', () => {
  it('tells the page, without sign-in, our OAuth client id, the redirect URI and every environment', async () => {
    app = await startTestApp({
      env: { GENESYS_OAUTH_CLIENT_ID: 'vendor-client', PUBLIC_URL: 'https://relay.example.com' },
    });
    const body = await get(app);
    expect(body).toMatchObject({
      oauthClientId: 'vendor-client',
      missing: [],
      redirectUri: 'https://relay.example.com/',
      features: { auditExport: true },
    });
    expect(body.environments.map((e) => e.environment)).toEqual([...ENVIRONMENTS]);
    expect(body.environments.find((e) => e.environment === 'mypurecloud.ie')).toEqual({
      environment: 'mypurecloud.ie',
      name: 'prod-euw1',
      loginUrl: 'https://login.mypurecloud.ie',
      apiUrl: 'https://api.mypurecloud.ie',
      appsOrigin: 'https://apps.mypurecloud.ie',
    });
  });

  it('names what the operator must set when GENESYS_OAUTH_CLIENT_ID is unset', async () => {
    app = await startTestApp();
    const body = await get(app);
    expect(body.oauthClientId).toBeNull();
    expect(body.missing.map((m) => m.variable)).toEqual(['GENESYS_OAUTH_CLIENT_ID']);
  });

  it('with GENESYS_BASE_URL every environment signs in and calls the API there (the emulator)', async () => {
    app = await startTestApp({ genesysBaseUrl: 'http://127.0.0.1:9090' });
    const body = await get(app);
    for (const e of body.environments) {
      expect(e.loginUrl).toBe('http://127.0.0.1:9090');
      expect(e.apiUrl).toBe('http://127.0.0.1:9090');
    }
  });
});
