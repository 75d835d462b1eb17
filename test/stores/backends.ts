import { openDatabase, type RelayDatabase } from '../../src/db/client.js';
import type { PgDatabase } from '../../src/db/pg/client.js';
import { settled } from '../helpers/audit-staged.js';
import { startPgDatabase } from '../helpers/pg-db.js';
import { tempDir } from '../helpers/tmp.js';

/** A store on one backend, with a backend-neutral way to look at the rows it wrote. */
export interface OnBackend<S> {
  readonly name: 'sqlite' | 'postgres';
  readonly store: S;
  /** Rows of a query written with `?` placeholders, in either dialect's common subset. */
  all<T = Record<string, unknown>>(query: string, ...params: unknown[]): Promise<T[]>;
  /** Runs a statement (seeding rows the store under test does not write itself). */
  run(query: string, ...params: unknown[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The two rows of a contract test's `describe.each`: the same store built on a migrated SQLite
 * file and on a real migrated PostgreSQL server (one per test file, started in `beforeAll`).
 */
export function backends<S>(
  sqlite: (database: RelayDatabase) => S,
  postgres: (database: PgDatabase) => S,
): Array<[string, () => Promise<OnBackend<S>>]> {
  return [
    ['sqlite', () => onSqlite(sqlite)],
    ['postgres', () => onPostgres(postgres)],
  ];
}

export async function onSqlite<S>(make: (database: RelayDatabase) => S): Promise<OnBackend<S>> {
  const dir = tempDir('relay-contract');
  const database = openDatabase(`${dir.path}/relay.sqlite`);
  database.migrate();
  return {
    name: 'sqlite',
    store: make(database),
    // Audit rows a hot path staged are moved in first, as the app's readers do.
    all: async <T>(query: string, ...params: unknown[]) =>
      settled(database)
        .prepare(query)
        .all(...params.map(sqliteValue)) as T[],
    run: async (query, ...params) => {
      settled(database)
        .prepare(query)
        .run(...params.map(sqliteValue));
    },
    close: async () => {
      database.close();
      dir.cleanup();
    },
  };
}

const sqliteValue = (v: unknown) => (typeof v === 'boolean' ? Number(v) : v);

async function onPostgres<S>(make: (database: PgDatabase) => S): Promise<OnBackend<S>> {
  const pg = await startPgDatabase();
  const numbered = (query: string) => {
    let n = 0;
    return query.replace(/\?/g, () => `$${++n}`);
  };
  return {
    name: 'postgres',
    store: make(pg.database),
    all: async <T>(query: string, ...params: unknown[]) =>
      (await pg.database.sql.unsafe(numbered(query), params as never[])) as unknown as T[],
    run: async (query, ...params) => {
      await pg.database.sql.unsafe(numbered(query), params as never[]);
    },
    close: () => pg.close(),
  };
}
