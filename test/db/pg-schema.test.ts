import { fileURLToPath } from 'node:url';
import { is } from 'drizzle-orm';
import { PgTable, getTableConfig as pgTableConfig } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { SQLiteTable, getTableConfig as sqliteTableConfig } from 'drizzle-orm/sqlite-core';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type RelayDatabase } from '../../src/db/client.js';
import * as pgSchema from '../../src/db/pg/schema.js';
import * as sqliteSchema from '../../src/db/schema.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

/**
 * The PostgreSQL schema may not drift from the SQLite one: the drizzle twins declare the same
 * tables, columns and indexes, and the two migration folders build the same tables, columns,
 * nullability, storage kinds, keys and indexes. Since migrations/ follows src/db/schema.ts, a pg
 * schema change without `npm run db:generate:pg` fails here too.
 */
const PG_MIGRATIONS = fileURLToPath(new URL('../../migrations-pg', import.meta.url));

/**
 * Tables only PostgreSQL has: state several instances share that one SQLite process keeps in
 * memory (each org's request budget and access token). Left out of both comparisons.
 */
const PG_ONLY = new Set(['org_budgets', 'org_tokens']);
/**
 * Tables only SQLite has: audit rows staged before they move into audit_log, which saves SQLite's
 * page-sized WAL writes; PostgreSQL logs rows and writes audit_log at once.
 */
const SQLITE_ONLY = new Set(['audit_staged']);

/** A table as both dialects describe it: `name kind [not null]` columns (kind: how SQLite stores it) and keys. */
interface Shape {
  columns: string[];
  keys: string[];
}

let server: TestPostgres;
let sql: postgres.Sql;
beforeAll(async () => {
  server = await startPostgres();
  sql = postgres(server.url, { max: 1, onnotice: () => {} });
  await migrate(drizzle({ client: sql }), { migrationsFolder: PG_MIGRATIONS });
});
afterAll(async () => {
  await sql?.end();
  await server?.close();
});

describe('the PostgreSQL schema mirrors the SQLite schema', () => {
  it('declares the same tables, columns and indexes in src/db/pg/schema.ts as in src/db/schema.ts', () => {
    const pg = declared(pgSchema, PgTable, pgTableConfig);
    expect(Object.keys(pg)).toEqual(expect.arrayContaining([...PG_ONLY]));
    for (const t of PG_ONLY) delete pg[t];
    const sqlite = declared(sqliteSchema, SQLiteTable, sqliteTableConfig);
    for (const t of SQLITE_ONLY) delete sqlite[t];
    expect(pg).toEqual(sqlite);
  });

  it('migrations-pg/ builds every table, column, key and index that migrations/ builds', async () => {
    const sqlite = sqliteShapes();
    for (const t of SQLITE_ONLY) delete sqlite[t];
    expect(Object.keys(sqlite).length).toBeGreaterThan(10);
    const pg = await pgShapes(sql);
    expect(Object.keys(pg)).toEqual(expect.arrayContaining([...PG_ONLY]));
    for (const t of PG_ONLY) delete pg[t];
    expect(pg).toEqual(sqlite);
  });
});

type TableConfig = {
  name: string;
  columns: { name: string; notNull: boolean }[];
  indexes: { config: { name?: string | undefined; unique: boolean; columns: unknown[] } }[];
};

/** Table → sorted `column not null?` and `index(columns) unique?` lines, from drizzle objects. */
function declared(
  schema: object,
  kind: typeof PgTable | typeof SQLiteTable,
  config: (table: never) => TableConfig,
): Record<string, string[]> {
  const tables = Object.values(schema).filter((v) => is(v, kind));
  return Object.fromEntries(
    tables.map((table) => {
      const c = config(table as never);
      const columns = c.columns.map((col) => `${col.name}${col.notNull ? ' not null' : ''}`);
      const indexes = c.indexes.map(({ config: i }) => {
        const on = i.columns.map((col) => (col as { name: string }).name).join(', ');
        return `${i.unique ? 'unique ' : ''}${i.name}(${on})`;
      });
      return [c.name, [...columns, ...indexes].sort()];
    }),
  );
}

/** What the committed SQLite migrations build, read back through pragmas. */
function sqliteShapes(): Record<string, Shape> {
  const database = openDatabase(':memory:');
  try {
    database.migrate();
    const tables = database.sqlite
      .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")
      .pluck()
      .all() as string[];
    const ours = tables.filter((t) => !t.startsWith('__drizzle'));
    return Object.fromEntries(ours.map((t) => [t, sqliteShape(database.sqlite, t)]));
  } finally {
    database.close();
  }
}

function sqliteShape(db: RelayDatabase['sqlite'], table: string): Shape {
  type Col = { name: string; type: string; notnull: number; pk: number };
  const cols = db.prepare(`pragma table_info(${table})`).all() as Col[];
  const columns = cols.map((c) => column(c.name, c.type.toLowerCase(), c.notnull === 1 || c.pk > 0));
  const pk = cols
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
  type Idx = { name: string; unique: number; origin: string };
  // origin 'c': made by CREATE INDEX (the primary key's implicit index is compared as `primary key`).
  const created = (db.prepare(`pragma index_list(${table})`).all() as Idx[]).filter((i) => i.origin === 'c');
  const indexes = created.map((i) => {
    const on = (db.prepare(`pragma index_info(${i.name})`).all() as { name: string }[]).map((c) => c.name);
    return key(i.name, i.unique === 1, on);
  });
  return { columns: columns.sort(), keys: [key('primary key', true, pk), ...indexes].sort() };
}

/** What migrations-pg/ built, read back from the catalogs (drizzle's own table lives in schema `drizzle`). */
async function pgShapes(sql: postgres.Sql): Promise<Record<string, Shape>> {
  const cols = await sql<{ table: string; name: string; type: string; nullable: string }[]>`
    select table_name as table, column_name as name, data_type as type, is_nullable as nullable
    from information_schema.columns where table_schema = 'public'`;
  const indexes = await sql<
    { table: string; name: string; unique: boolean; primary: boolean; columns: string[] }[]
  >`
    select t.relname as table, i.relname as name, x.indisunique as unique, x.indisprimary as primary,
      array(select a.attname from unnest(x.indkey) with ordinality k(attnum, ord)
            join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum order by k.ord)::text[] as columns
    from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
    join pg_namespace n on n.oid = t.relnamespace where n.nspname = 'public'`;
  const shapes: Record<string, Shape> = {};
  const shape = (table: string) => {
    shapes[table] ??= { columns: [], keys: [] };
    return shapes[table];
  };
  for (const c of cols) shape(c.table).columns.push(column(c.name, storedAs(c.type), c.nullable === 'NO'));
  for (const i of indexes)
    shape(i.table).keys.push(key(i.primary ? 'primary key' : i.name, i.unique, i.columns));
  for (const s of Object.values(shapes)) {
    s.columns.sort();
    s.keys.sort();
  }
  return shapes;
}

/** The SQLite storage class a PostgreSQL column type stands in for (see src/db/pg/schema.ts). */
function storedAs(pgType: string): string {
  if (['bigint', 'integer', 'boolean'].includes(pgType)) return 'integer';
  if (['text', 'jsonb'].includes(pgType)) return 'text';
  return `no SQLite twin for ${pgType}`;
}

function column(name: string, kind: string, notNull: boolean): string {
  return `${name} ${kind}${notNull ? ' not null' : ''}`;
}

function key(name: string, unique: boolean, columns: string[]): string {
  return `${unique ? 'unique ' : ''}${name}(${columns.join(', ')})`;
}
