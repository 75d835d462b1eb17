import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Import boundaries the design relies on, checked over the source text. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

const src = sources('src').map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }));

/** The relative module specifiers a file imports or re-exports (packages and node: builtins left out). */
function relativeImports(text: string): string[] {
  const specifiers = text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)'(\.{1,2}\/[^']*)'/g);
  return [...specifiers].map((m) => m[1] as string);
}

describe('architecture', () => {
  it('src/http/ depends on nothing above it: its files import only src/http/, src/lib/ and packages', () => {
    const http = src.filter((f) => f.path.startsWith('src/http/'));
    expect(http.length).toBeGreaterThan(0);
    const offenders = http.flatMap((f) =>
      relativeImports(f.text)
        .map((spec) => join(dirname(f.path), spec))
        .filter((target) => !target.startsWith('src/http/') && !target.startsWith('src/lib/'))
        .map((target) => `${f.path} -> ${target}`),
    );
    expect(offenders).toEqual([]);
  });

  it('only src/genesys/ imports undici (all outbound HTTP to Genesys goes through it)', () => {
    const offenders = src.filter((f) => /from 'undici'/.test(f.text) && !f.path.startsWith('src/genesys/'));
    expect(offenders.map((f) => f.path)).toEqual([]);
    expect(src.some((f) => f.path.startsWith('src/genesys/') && /from 'undici'/.test(f.text))).toBe(true);
  });

  it('only src/config.ts (and the emulator and demo entries) read process.env', () => {
    // The demo is a launcher around the relay: it hands the relay its variables, never reads the relay's.
    const allowed = new Set(['src/config.ts', 'src/emulator/main.ts', 'src/demo/settings.ts']);
    const offenders = src.filter((f) => /process\.env/.test(f.text) && !allowed.has(f.path));
    expect(offenders.map((f) => f.path)).toEqual([]);
  });

  it('no module-level database or config singletons: nothing but main.ts calls openDatabase or loadConfig', () => {
    const offenders = src.filter(
      (f) =>
        /\b(openDatabase|loadConfig)\(/.test(f.text.replace(/export function \w+\(/g, '')) &&
        f.path !== 'src/main.ts',
    );
    expect(offenders.map((f) => f.path)).toEqual([]);
  });

  it('only src/db/ and store modules reach the database driver, the ORM or the schema', () => {
    const allowed = (path: string) => path.startsWith('src/db/') || /store\.ts$/.test(path);
    const offenders = src.filter(
      (f) =>
        /from '(better-sqlite3|drizzle-orm[^']*|pg|postgres|[./]*db\/schema\.js)'/.test(f.text) &&
        !allowed(f.path),
    );
    expect(offenders.map((f) => f.path)).toEqual([]);
  });

  it('route files never touch tables or SQL directly (store modules do)', () => {
    const offenders = src.filter(
      (f) =>
        /routes\.ts$/.test(f.path) &&
        /from '(drizzle-orm[^']*|better-sqlite3|[./]*db\/schema\.js)'/.test(f.text),
    );
    expect(offenders.map((f) => f.path)).toEqual([]);
  });

  it('the audit log is append-only: only the audit stores (SQLite and PostgreSQL) write it, nothing updates it', () => {
    const touches = src.filter((f) => /\bauditLog\b/.test(f.text)).map((f) => f.path);
    expect(touches.sort()).toEqual([
      'src/audit/pg-store.ts',
      'src/audit/store.ts',
      'src/db/pg/schema.ts',
      'src/db/schema.ts',
    ]);
    // In SQL text: the staging store moves staged rows in (the store appends through drizzle); retention (on either backend) is the one deleter besides the uninstall purge.
    const writers = src
      .filter((f) => /(insert\s+into|delete\s+from|update)\s+audit_log\b|batch\('audit_log'/i.test(f.text))
      .map((f) => f.path);
    expect(writers.sort()).toEqual([
      'src/audit/staging-store.ts',
      'src/retention/pg-store.ts',
      'src/retention/store.ts',
    ]);
    // Staged rows (SQLite): the store's hot-path append writes them, the staging store alone reads
    // and moves them, and the uninstall purge deletes an org's through ORG_TABLES.
    const staged = src.filter((f) => /\baudit_staged\b|\bauditStaged\b/.test(f.text)).map((f) => f.path);
    expect(staged.sort()).toEqual(['src/audit/staging-store.ts', 'src/audit/store.ts', 'src/db/schema.ts']);
    const store = src.find((f) => f.path === 'src/audit/store.ts')?.text ?? '';
    expect(store).not.toMatch(/\.delete\(auditLog\)/);
    // One update only: chaining rows written before the hash chain existed (seq and hash, nothing else).
    expect(store.match(/\.update\(auditLog\)\.set\([^)]*\)/g)).toEqual([
      '.update(auditLog).set({ seq, hash })',
    ]);
    // The uninstall purge goes through ORG_TABLES; retention is the other deleter.
    expect(src.filter((f) => /\.update\(auditLog\)/.test(f.text)).map((f) => f.path)).toEqual([
      'src/audit/store.ts',
    ]);
  });
});
