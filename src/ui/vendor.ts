import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The third-party browser code we serve from our own origin (never a CDN), straight out of
 * node_modules: resolved at run time so `npm start` (dist/) and tests (src/) find the same files,
 * and the vite build reads the same versions to write them into the page.
 */
export interface VendorDir {
  readonly version: string;
  /** Folder whose files are served. */
  readonly dir: string;
  /** URL prefix, versioned so the files can be cached forever. */
  readonly prefix: string;
}

const require = createRequire(import.meta.url);

function packageInfo(name: string): { root: string; version: string } {
  const manifest = require.resolve(`${name}/package.json`);
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { root: dirname(manifest), version };
}

export function sparkDir(): VendorDir {
  const { root, version } = packageInfo('genesys-spark-components');
  return { version, dir: join(root, 'dist/genesys-webcomponents'), prefix: `/spark/${version}` };
}

export function redocDir(): VendorDir {
  const { root, version } = packageInfo('redoc');
  return { version, dir: join(root, 'bundles'), prefix: `/vendor/redoc/${version}` };
}

/** The project root: src/ui/ and dist/ui/ are both two levels below it. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where `vite build` writes the UI. */
export const WEB_DIST = join(PROJECT_ROOT, 'dist/web');
