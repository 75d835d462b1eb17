import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPS_ORIGINS } from '../../src/genesys/client-app-env.js';
import { sparkDir } from '../../src/ui/vendor.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

/** The admin UI's files and headers over real HTTP (the browser tests drive the page itself). */
let app: TestApp;
let demo: TestApp;
beforeAll(async () => {
  app = await startTestApp();
  demo = await startTestApp({ genesysBaseUrl: 'http://127.0.0.1:9' });
});
afterAll(async () => {
  await app.close();
  await demo.close();
});

const csp = (res: Response) =>
  Object.fromEntries(
    (res.headers.get('content-security-policy') ?? '').split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name, values];
    }),
  ) as Record<string, string[]>;

describe('the admin page', () => {
  it('is served at / with any query, with strict security headers', async () => {
    for (const path of [
      '/',
      '/?gcHostOrigin=https%3A%2F%2Fapps.mypurecloud.ie&gcTargetEnv=prod-euw1&langTag=de',
    ]) {
      const res = await fetch(`${app.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain('<meta name="referrer" content="no-referrer"');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const policy = csp(res);
      expect(policy['script-src']).toEqual(["'self'"]);
      expect(policy['base-uri']).toEqual(["'none'"]);
      expect(policy['object-src']).toEqual(["'none'"]);
      expect(policy['frame-ancestors']).toEqual(["'self'", ...APPS_ORIGINS]);
      expect(policy['connect-src']).toContain('https://login.mypurecloud.ie');
      expect(policy['connect-src']).toContain('https://api.mypurecloud.ie');
    }
  });

  it('in demo mode also lets the emulator frame it and be called', async () => {
    const policy = csp(await fetch(`${demo.url}/`));
    expect(policy['frame-ancestors']).toEqual(["'self'", ...APPS_ORIGINS, 'http://127.0.0.1:9']);
    expect(policy['connect-src']).toEqual(["'self'", 'http://127.0.0.1:9']);
  });

  it('serves hashed assets and the versioned spark components for a year, immutable', async () => {
    const html = await (await fetch(`${app.url}/`)).text();
    const asset = html.match(/\/assets\/[^"]+\.js/)?.[0];
    expect(asset).toBeDefined();
    const res = await fetch(`${app.url}${asset}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/javascript');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const spark = await fetch(`${app.url}${sparkDir().prefix}/genesys-webcomponents.esm.js`);
    expect(spark.status).toBe(200);
    expect(spark.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('keeps problem+json 404s for everything else, and never leaves its folders', async () => {
    for (const path of [
      '/v1/nope',
      '/assets/nope.js',
      '/spark/0.0.0/genesys-webcomponents.esm.js',
      `${sparkDir().prefix}/..%2F..%2Fpackage.json`,
      '/assets/..%2F..%2F..%2Fpackage.json',
      '/index.html',
    ]) {
      const res = await fetch(`${app.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('serves the API reference at /docs, rendered in the page from /openapi.json', async () => {
    const res = await fetch(`${app.url}/docs`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('id="redoc"');
    expect(csp(res)['script-src']).toEqual(["'self'"]);
    expect(csp(res)['worker-src']).toEqual(["'self'", 'blob:']);
  });
});
