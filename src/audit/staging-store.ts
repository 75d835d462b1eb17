import type BetterSqlite3 from 'better-sqlite3';

/**
 * SQLite's audit rows from the hot paths (ingest, processing, settles) land in `audit_staged`, a
 * table with no index, and move into `audit_log` about once a second, sorted by org.
 *
 * Why: SQLite's WAL writes whole pages, and audit_log has eight indexes, seven of them keyed by org
 * first. Written a few rows a commit, as the hot paths commit, each row changed a page in each of
 * them. Moved a second's rows at once, an org's rows share each page. The perf bench's delivery
 * case on 2 cores, five runs before and four after: 0.97–1.17 → 0.85–0.95 ms of relay CPU a
 * delivered event, 248–254 → 131–143 KB written, 1,890–2,040 → 2,360–2,760 events/s accepted
 * beside delivery.
 *
 * In the app nothing else reads `audit_staged`: every reader of `audit_log` calls `settle()` first
 * (the SQLite stores are built that way), so a read after a write always sees it. The rows are
 * already chained (seq, hash) and durable when staged, in the transaction of the change they
 * record; a crash leaves them staged, and the next move or read takes them.
 */
export interface AuditStaging {
  /** Moves every staged row into `audit_log` now. Cheap when none is staged. */
  settle(): void;
  /** Moves staged rows every `everyMs` from now on (the server's stores start it). */
  start(): void;
  /** No more timed moves; moves what is left, so a closed database holds no staged row. */
  stop(): void;
}

/**
 * A timed move goes a chunk at a time, each its own transaction, with the event loop free between
 * them, so rows a crash left staged never make one long stall. A second's rows fit one chunk: in
 * chunks of 1,000 the org's rows shared fewer pages (perf bench, delivery case: 0.965–1.00 ms of
 * CPU and 167–191 KB written per event, against 0.935–0.95 ms and 143 KB), and ingest alone at
 * 8,000/s had a p99 of 29–30 ms, against 23–24 ms.
 */
export const CHUNK_ROWS = 10_000;

export function sqliteAuditStaging(
  sqlite: BetterSqlite3.Database,
  {
    everyMs = 1_000,
    onError = () => {},
  }: { everyMs?: number | undefined; onError?: ((err: unknown) => void) | undefined } = {},
): AuditStaging {
  // Prepared on first use: the database may be opened before its migrations are applied.
  let sql: ReturnType<typeof prepare> | undefined;
  const q = () => {
    sql ??= prepare(sqlite);
    return sql;
  };
  /** One chunk (the oldest staged rows); false when nothing was staged. */
  const moveChunk = sqlite.transaction((): boolean => {
    const last = q().chunkEnd.get(CHUNK_ROWS) as number | null;
    if (last === null) return false;
    q().move.run(last);
    q().drop.run(last);
    return true;
  });
  let timer: NodeJS.Timeout | undefined;
  let moving = false;
  const pass = () => {
    if (moving || !sqlite.open) return;
    moving = true;
    const next = () => {
      try {
        if (sqlite.open && moveChunk()) {
          setImmediate(next);
          return;
        }
      } catch (err) {
        // The rows stay staged; the next pass or read moves them (a read that cannot, fails).
        onError(err);
      }
      moving = false;
    };
    next();
  };
  // Every chunk now, each its own transaction: a backlog a crash left is never one huge one.
  const settle = () => {
    if (!sqlite.open || !q().any.get()) return;
    while (moveChunk());
  };
  return {
    settle,
    start() {
      timer ??= setInterval(pass, everyMs).unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      try {
        if (sqlite.open && !sqlite.readonly) settle();
      } catch (err) {
        // Stopping goes on: the rows stay staged, and the next start moves them.
        onError(err);
      }
    },
  };
}

function prepare(sqlite: BetterSqlite3.Database) {
  // Every column of a staged row (the schema builds both tables from one list of columns).
  const columns = (sqlite.pragma('table_info(audit_staged)') as Array<{ name: string }>)
    .map((c) => c.name)
    .join(', ');
  return {
    any: sqlite.prepare('select exists (select 1 from audit_staged)').pluck(),
    chunkEnd: sqlite
      .prepare('select max(rowid) from (select rowid from audit_staged order by rowid limit ?)')
      .pluck(),
    // Sorted by org: each org's rows land together in every org-keyed index.
    move: sqlite.prepare(
      `insert into audit_log (${columns}) select ${columns} from audit_staged where rowid <= ? order by org_id, rowid`,
    ),
    drop: sqlite.prepare('delete from audit_staged where rowid <= ?'),
  };
}

/**
 * `store` with every method calling `settle` first: the SQLite stores that read `audit_log`. Only
 * a plain object's own methods are wrapped, so a class instance is refused rather than half wrapped.
 */
export function settledFirst<T extends object>(store: T, settle: () => void): T {
  if (Object.getPrototypeOf(store) !== Object.prototype)
    throw new TypeError('settledFirst wraps plain objects');
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(store)) {
    out[name] =
      typeof value === 'function'
        ? (...args: unknown[]) => {
            settle();
            return value.apply(store, args);
          }
        : value;
  }
  return out as T;
}
