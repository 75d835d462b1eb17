import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { Logger } from '../lib/logger.js';

/**
 * WAL checkpoints on a thread of their own, so they never stall the event loop.
 *
 * A checkpoint syncs the WAL, copies its pages back into the database file and syncs that. Run by
 * SQLite after a commit (wal_autocheckpoint), it blocked the event loop 30–60 ms every few seconds
 * of load (strace: a 21–25 ms fsync of the WAL alone), and that was signed ingest's p99 (`npm run
 * bench`): 45 ms with 64 senders, 32 ms at an open 2,000/s. With checkpoints here: 17 and 11 ms.
 * While delivering (perf bench), 66 → 52–62 ms, and 5–9 % more events patched a second; the
 * thread costs 0.03–0.08 ms of CPU a delivered event more than commits checkpointing did, and
 * ~10 MB of RSS (its isolate).
 *
 * Here a worker thread with its own connection runs a PASSIVE checkpoint every `everyMs`: it copies
 * what is committed while the event loop goes on writing. A WAL written to without a pause is never
 * wholly copied, though, so it never starts again from its beginning and would grow without end.
 * Once it holds `restartPages`, the thread asks the event loop to copy the few pages written since
 * its own pass: a checkpoint there sees every commit, so the next commit starts the WAL anew. (A
 * RESTART checkpoint on the thread would hold the write lock, and every transaction here that
 * reads before it writes would fail with `database is locked`: SQLite cannot wait while holding a
 * snapshot.)
 *
 * If the thread fails, SQLite's own checkpoints after commits take over again.
 */
export interface Checkpointer {
  /**
   * Settles once the thread checkpoints, or once commits do again because it could not: the
   * server starts serving after it, so the thread's memory (~10 MB) is there from the first request.
   */
  ready: Promise<void>;
  /** Stops checkpointing and closes the thread's connection. */
  stop(): Promise<void>;
}

export interface CheckpointerOptions {
  logger: Logger;
  everyMs?: number;
  /** The WAL size (in pages) at which a checkpoint makes the WAL start again (bounds the file). */
  restartPages?: number;
}

/** SQLite's checkpoint after commits when no thread does it (see openDatabase). */
export const AUTOCHECKPOINT_PAGES = 10_000;

/** What the thread runs: plain CommonJS, so it needs no build step and no TypeScript loader. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
// A pass that keeps failing ends the thread, so commits checkpoint again (a WAL left alone grows).
let failures = 0;
const pass = () => {
  try {
    let [p] = db.pragma('wal_checkpoint(PASSIVE)');
    failures = 0;
    if (p.log < workerData.restartPages) return;
    // Each pass copies what was committed during the one before, so they shrink: the event
    // loop's catch-up is then short.
    for (let i = 0; i < 8; i++) {
      const before = p.checkpointed;
      [p] = db.pragma('wal_checkpoint(PASSIVE)');
      if (p.checkpointed - before < 128) break;
    }
    parentPort.postMessage({ catchUp: true });
  } catch (err) {
    if (++failures >= 5) throw err;
    parentPort.postMessage({ error: String(err && err.message) });
  }
};
const timer = setInterval(pass, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
parentPort.postMessage({ ready: true });
`;

/**
 * Starts checkpointing `path` (the file `sqlite` has open) on a worker thread, and turns the
 * connection's own checkpoints off once the thread is ready.
 */
export function startCheckpointer(
  sqlite: Database.Database,
  path: string,
  options: CheckpointerOptions,
): Checkpointer {
  const { logger, everyMs = 1_000, restartPages = AUTOCHECKPOINT_PAGES } = options;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { driver, path, everyMs, restartPages } });
  // The server stops it before closing; a process that ends otherwise is not held up by it.
  worker.unref();
  let stopping = false;
  let fellBack = false;
  let started = () => {};
  const ready = new Promise<void>((resolve) => {
    started = resolve;
  });
  const fallBack = (why: string, err?: unknown) => {
    started();
    if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    if (stopping || fellBack) return;
    fellBack = true;
    logger.warn(`background checkpoints stopped (${why}): commits checkpoint again`, { err });
  };
  worker.on('message', (m: { ready?: true; catchUp?: true; error?: string }) => {
    if (m.ready) {
      if (!stopping && sqlite.open) sqlite.pragma('wal_autocheckpoint = 0');
      started();
    } else if (m.catchUp && sqlite.open) catchUp(sqlite, logger);
    else if (m.error) logger.warn('a background checkpoint failed', { error: m.error });
  });
  worker.on('error', (err) => fallBack('thread failed', err));
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code) => {
      if (!stopping) fallBack(`thread exited with ${code}`);
      started();
      resolve();
    }),
  );
  return {
    ready,
    async stop() {
      if (stopping) return exited;
      stopping = true;
      // Commits checkpoint again from here on; the thread closes its connection and ends.
      if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
      // Held again until it has ended: a stopping process waits for it, not past it.
      worker.ref();
      worker.postMessage('stop');
      return exited;
    },
  };
}

/**
 * The rest of a pass the thread made, on the event loop: only what was committed meanwhile, so the
 * WAL is wholly copied and the next commit starts it again. Busy (the thread is in a pass): the
 * thread asks again after its next one.
 */
function catchUp(sqlite: Database.Database, logger: Logger): void {
  try {
    sqlite.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    logger.warn('a checkpoint failed', { err });
  }
}
