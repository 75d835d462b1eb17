import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema.js';

/** Resolved from this file (src/db/pg/ and dist/db/pg/ both sit three levels below the root). */
export const PG_MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../migrations-pg', import.meta.url));

export type PgDb = PostgresJsDatabase<typeof schema>;
/** The handle inside `db.transaction(async (tx) => …)`. */
export type PgTx = Parameters<Parameters<PgDb['transaction']>[0]>[0];

export interface PgOptions {
  /** Connections in the pool (default 10). */
  max?: number;
  /** Longest a statement may run before the server cancels it (default 30 s). */
  statementTimeoutMs?: number;
}

export interface PgDatabase {
  readonly db: PgDb;
  readonly sql: postgres.Sql;
  /** Applies the committed migrations not yet applied; safe from several instances at once. */
  migrate(): Promise<void>;
  /** Whether the database answers and every committed migration is applied. */
  readiness(): Promise<{ ready: true } | { ready: false; reason: string }>;
  close(): Promise<void>;
}

/**
 * Any key of our own for `pg_advisory_lock`: instances starting together take turns migrating
 * (drizzle's migrator alone would let two of them apply the same migration).
 */
const MIGRATION_LOCK = 7_412_508_993;

/**
 * Where a `DATABASE_URL` points, as postgres.js takes it. libpq names a Unix socket's folder as the
 * host, percent-encoded (`postgresql://relay@%2Frun%2Fpostgresql/relay`), or in parameters with no
 * host (`postgresql:///relay?host=/run/postgresql&port=5433&user=relay`). postgres.js connects to a
 * socket only for a host holding a `/` given as an option, needs a host name in the URL, and would
 * send `port` or `user` parameters to the server as settings (refused): the URL then says
 * `localhost`, takes the port and user from them, and the folder goes in `socket`. Other URLs pass
 * through unchanged.
 */
export function pgTarget(url: string): { url: string; socket?: string } {
  const u = new URL(url);
  const param = u.searchParams.get('host') ?? '';
  const host = decodeURIComponent(u.hostname);
  const socket = param.startsWith('/') ? param : host.startsWith('/') ? host : undefined;
  if (socket === undefined) return { url };
  const take = (name: string) => {
    const value = u.searchParams.get(name);
    u.searchParams.delete(name);
    return value;
  };
  take('host');
  u.hostname = 'localhost';
  const [port, user, password] = [take('port'), take('user'), take('password')];
  if (port) u.port = port;
  if (user) u.username = encodeURIComponent(user);
  if (password) u.password = encodeURIComponent(password);
  return { url: u.toString(), socket };
}

/** A postgres.js client for `url`, through its socket when it names one (see `pgTarget`). */
function client(url: string, options: postgres.Options<Record<string, never>>): postgres.Sql {
  const target = pgTarget(url);
  return postgres(target.url, target.socket === undefined ? options : { ...options, host: target.socket });
}

export function openPgDatabase(url: string, options: PgOptions = {}): PgDatabase {
  const sql = client(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { statement_timeout: options.statementTimeoutMs ?? 30_000 },
  });
  const db = drizzle({ client: sql, schema, casing: 'snake_case' });
  const latest = latestMigrationMillis();
  return {
    db,
    sql,
    migrate: () => migrateLocked(url),
    readiness: () => readiness(sql, latest),
    close: () => sql.end({ timeout: 5 }),
  };
}

/**
 * On a client of its own with one connection, so the session lock and every statement of the
 * migrator share it; the lock ends with the session whatever happens.
 */
async function migrateLocked(url: string): Promise<void> {
  const one = client(url, { max: 1, onnotice: () => {} });
  try {
    await one`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(drizzle({ client: one }), { migrationsFolder: PG_MIGRATIONS_FOLDER });
  } finally {
    await one.end({ timeout: 5 });
  }
}

/** The `when` of the newest committed migration, as drizzle records it in `created_at`. */
function latestMigrationMillis(): number {
  const journal = JSON.parse(readFileSync(`${PG_MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as {
    entries: Array<{ when: number }>;
  };
  return Math.max(0, ...journal.entries.map((e) => e.when));
}

async function readiness(sql: postgres.Sql, latest: number) {
  try {
    const [row] = await sql<{ applied: string | null }[]>`
      select max(created_at)::text as applied from drizzle.__drizzle_migrations`;
    if (Number(row?.applied ?? 0) < latest) return { ready: false as const, reason: 'migrations pending' };
    return { ready: true as const };
  } catch (err) {
    const missing = (err as { code?: string }).code === '42P01';
    return { ready: false as const, reason: missing ? 'migrations not applied' : 'database unavailable' };
  }
}
