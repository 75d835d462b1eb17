import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';

/** The project documents itself: every route is in docs/api.md, and no link leaves the repository. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const docs = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe('documentation', () => {
  it('docs/api.md names every route of /openapi.json', async () => {
    const doc = (await (await fetch(`${app.url}/openapi.json`)).json()) as { paths: Record<string, object> };
    const text = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.filter((r) => !text.includes(r))).toEqual([]);
  });

  it.each(docs)('%s links only to files inside the repository that exist', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    expect(text).not.toMatch(/\.\.\/shared/);
    const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1]!)
      .filter((t) => !/^[a-z]+:/.test(t));
    for (const target of targets) {
      const path = resolve(dirname(join(ROOT, file)), target.split('#')[0]!);
      expect(relative(ROOT, path).startsWith('..'), `${file} → ${target}`).toBe(false);
      expect(existsSync(path), `${file} → ${target}`).toBe(true);
    }
  });
});
