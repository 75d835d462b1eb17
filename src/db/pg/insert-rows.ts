import { getTableName, type SQL, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { storableText } from '../../lib/text.js';
import type { PgDb, PgTx } from './client.js';

/**
 * Inserts `rows` (all with the same keys) with one statement whose text depends only on the table
 * and the keys: the rows travel as one jsonb parameter, unpacked by `jsonb_populate_recordset` with
 * the table's own row type. A multi-row `insert … values` had a different text for every batch
 * size, so postgres.js parsed and described each one again, and drizzle built 12 parameters a row:
 * together 20 % of the relay's CPU on the hot paths (audit rows, events, jobs, attempt rows).
 * `tail` follows the select (`on conflict …`, `returning …`).
 */
export async function insertRows<T extends PgTable, R extends Record<string, unknown>>(
  tx: PgTx | PgDb,
  table: T,
  rows: ReadonlyArray<T['$inferInsert']>,
  tail: SQL = sql``,
): Promise<R[]> {
  if (rows.length === 0) return [];
  return (await tx.execute<R>(sql`${insertSql(table, rows)} ${tail}`)) as unknown as R[];
}

/** The statement insertRows runs (for a `with … as (…)` of a larger one); `rows` not empty. */
export function insertSql<T extends PgTable>(table: T, rows: ReadonlyArray<T['$inferInsert']>): SQL {
  const keys = Object.keys(rows[0] as object);
  const columns = sql.raw(keys.map((k) => `"${snake(k)}"`).join(', '));
  const json = JSON.stringify(rows.map((r) => snakeKeys(r as Record<string, unknown>, keys)));
  const name = sql.raw(`"${getTableName(table)}"`);
  return sql`insert into ${name} (${columns})
    select ${columns} from jsonb_populate_recordset(null::${name}, ${json}::jsonb)`;
}

/** Column names by key: a handful of keys, converted for every row of every insert otherwise. */
const snakes = new Map<string, string>();
const snake = (key: string) => {
  let name = snakes.get(key);
  if (name === undefined) {
    name = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakes.set(key, name);
  }
  return name;
};

/**
 * The row under its column names. PostgreSQL text holds no NUL and jsonb takes no lone surrogate:
 * one such value from an event (a conversation id `"a\u0000b"` is valid JSON) failed its whole
 * batch, and processing retried that batch forever. storableText makes each U+FFFD.
 */
function snakeKeys(row: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = row[k] ?? null;
    out[snake(k)] = typeof v === 'string' ? storableText(v) : v;
  }
  return out;
}
