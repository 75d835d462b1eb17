import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** Another live process holds the database: start-up stops with this one line, exit 1. */
export class DatabaseInUseError extends Error {
  override name = 'DatabaseInUseError';
}

export interface InstanceLock {
  release(): void;
}

interface Holder {
  pid: number;
  host: string;
  started_at: string;
}

/**
 * SQLite means one process per database: two servers on one file fight over its write lock and
 * answer `database is locked`. So the process takes a lock for its whole life: a RESERVED lock
 * on a small SQLite file beside the database (`<path>.lock`), held by an open transaction. It is
 * an fcntl lock, so the kernel drops it when the process dies, kill -9 included: a crash never
 * leaves a stale lock behind, unlike a pid file. Who holds it is written there first, so a
 * second process can say who is in the way.
 */
export function lockDatabase(path: string, now: Date = new Date()): InstanceLock {
  if (path === ':memory:') return { release: () => undefined };
  mkdirSync(dirname(path), { recursive: true });
  const lockPath = `${path}.lock`;
  const db = new Database(lockPath);
  try {
    db.pragma('busy_timeout = 0');
    if (!tryBegin(db)) throw inUse(path, db);
    db.exec(
      'create table if not exists holder (pid integer not null, host text not null, started_at text not null)',
    );
    db.exec('delete from holder');
    db.prepare('insert into holder values (?, ?, ?)').run(process.pid, hostname(), now.toISOString());
    // The commit needs a moment without readers: a second process may be reading who holds it.
    db.pragma('busy_timeout = 2000');
    db.exec('commit');
    db.pragma('busy_timeout = 0');
    if (!tryBegin(db)) throw inUse(path, db);
  } catch (err) {
    db.close();
    throw err;
  }
  return {
    release: () => {
      if (db.open) db.close();
    },
  };
}

function tryBegin(db: Database.Database): boolean {
  try {
    db.exec('begin immediate');
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw err;
  }
}

function inUse(path: string, db: Database.Database): DatabaseInUseError {
  const holder = readHolder(db);
  const who =
    holder && holder.pid !== process.pid
      ? `process ${holder.pid} on ${holder.host} (since ${holder.started_at})`
      : 'another process that is starting';
  return new DatabaseInUseError(
    `DATABASE_PATH ${path} is in use by ${who}: SQLite allows one attribute-relay process per database. Stop it, or give this one another DATABASE_PATH.`,
  );
}

function readHolder(db: Database.Database): Holder | undefined {
  try {
    return db.prepare('select pid, host, started_at from holder').get() as Holder | undefined;
  } catch {
    return undefined; // not written yet, or mid-commit
  }
}
