import { getTableName, type SQL, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
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
  const json = storable(JSON.stringify(rows.map((r) => snakeKeys(r as Record<string, unknown>, keys))));
  const name = sql.raw(`"${getTableName(table)}"`);
  return sql`insert into ${name} (${columns})
    select ${columns} from jsonb_populate_recordset(null::${name}, ${json}::jsonb)`;
}

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function snakeKeys(row: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) out[snake(k)] = row[k] ?? null;
  return out;
}

/**
 * PostgreSQL text holds neither NUL nor a lone UTF-16 surrogate, and jsonb refuses their escapes:
 * one such value from an event (a conversation id `"a\u0000b"` is valid JSON) failed its whole
 * batch, and processing retried that batch forever. Each becomes U+FFFD, as a lone surrogate
 * already did in UTF-8. JSON.stringify escapes exactly these (a surrogate pair stays raw), and an
 * escape counts only after an even run of backslashes.
 */
export function storable(json: string): string {
  return json.replace(/(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/gi, '$1\\ufffd');
}
