import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Config } from '../config.js';
import { AppError } from '../lib/errors.js';
import type { AppEnv } from '../sessions/require-session.js';
import { uiHeaders } from './headers.js';
import { redocDir, sparkDir, type VendorDir, WEB_DIST } from './vendor.js';

/**
 * The admin UI: the built page at `/` (any query: Genesys adds gcHostOrigin…, the login adds
 * code/state) and `/docs`, vite's hashed assets, and the spark components and redoc out of
 * node_modules under versioned paths. Hash routing in the page means no other path is ours;
 * everything else stays the API's problem+json 404.
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};
const FOREVER = 'public, max-age=31536000, immutable';

export function registerUiRoutes(app: OpenAPIHono<AppEnv>, deps: { config: Config }): void {
  const page = uiHeaders(deps.config);
  const docsPage = uiHeaders(deps.config, { docs: true });
  const assetHeaders = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

  app.get('/', (c) => serve(c, WEB_DIST, 'index.html', { ...page, 'cache-control': 'no-cache' }));
  app.get('/docs', (c) => serve(c, WEB_DIST, 'docs.html', { ...docsPage, 'cache-control': 'no-cache' }));
  app.get('/assets/*', (c) =>
    serve(c, WEB_DIST, c.req.path.slice(1), { ...assetHeaders, 'cache-control': FOREVER }),
  );
  for (const vendor of [sparkDir(), redocDir()]) {
    app.get(`${vendor.prefix}/*`, (c) => serveVendor(c, vendor, assetHeaders));
  }
}

function serveVendor(c: Context<AppEnv>, vendor: VendorDir, headers: Record<string, string>) {
  const rel = c.req.path.slice(vendor.prefix.length + 1);
  return serve(c, vendor.dir, rel, { ...headers, 'cache-control': FOREVER });
}

async function serve(c: Context<AppEnv>, root: string, rel: string, headers: Record<string, string>) {
  const file = inside(root, rel);
  const type = TYPES[extname(rel)];
  if (!file || !type) throw new AppError('not_found', `No route for ${c.req.path}.`);
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    if (rel.endsWith('.html'))
      throw new AppError('service_unavailable', 'The admin UI is not built: run `npm run build`.');
    throw new AppError('not_found', `No route for ${c.req.path}.`);
  }
  return c.body(new Uint8Array(body), 200, { ...headers, 'content-type': type });
}

/** `rel` resolved under `root`, or undefined when it would escape it. */
function inside(root: string, rel: string): string | undefined {
  const decoded = safeDecode(rel);
  if (decoded === undefined || decoded.includes('\0')) return undefined;
  const full = normalize(join(root, decoded));
  return full.startsWith(root.endsWith(sep) ? root : root + sep) ? full : undefined;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
