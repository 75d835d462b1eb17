import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AUTOCHECKPOINT_PAGES, type Checkpointer, startCheckpointer } from '../../src/db/checkpointer.js';
import { openDatabase, type RelayDatabase } from '../../src/db/client.js';
import type { Logger } from '../../src/lib/logger.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/until.js';

/** A logger that keeps its warnings. */
function logs(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const logger = {
    warnings,
    debug() {},
    info() {},
    warn(msg: string) {
      warnings.push(msg);
    },
    error() {},
    child: () => logger,
  };
  return logger;
}

/** The WAL header's first salt (offset 16): SQLite changes it each time the WAL starts again. */
function walSalt(path: string): number {
  const fd = openSync(`${path}-wal`, 'r');
  try {
    const header = Buffer.alloc(32);
    readSync(fd, header, 0, 32, 0);
    return header.readUInt32BE(16);
  } finally {
    closeSync(fd);
  }
}

const autocheckpoint = (sqlite: Database.Database) => sqlite.pragma('wal_autocheckpoint', { simple: true });
/** 200 rows of 1 KB in one transaction: 50 pages and more. */
const write = (sqlite: Database.Database) =>
  sqlite.transaction(() => {
    const insert = sqlite.prepare('insert into t (v) values (randomblob(1000))');
    for (let i = 0; i < 200; i++) insert.run();
  })();

describe('background checkpoints', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: RelayDatabase;
  let checkpoints: Checkpointer | undefined;
  const open = () => {
    dir = tempDir('checkpoints');
    const path = join(dir.path, 'relay.sqlite');
    db = openDatabase(path);
    db.sqlite.exec('create table t (id integer primary key, v blob)');
    return path;
  };

  afterEach(async () => {
    await checkpoints?.stop();
    checkpoints = undefined;
    db.close();
    dir.cleanup();
  });

  it('copies committed pages into the database file while commits no longer checkpoint', async () => {
    const path = open();
    const logger = logs();
    checkpoints = startCheckpointer(db.sqlite, path, { logger, everyMs: 10 });
    // Ready once the thread has taken checkpoints over (the server serves after that).
    await checkpoints.ready;
    expect(autocheckpoint(db.sqlite)).toBe(0);
    const before = statSync(path).size;
    for (let i = 0; i < 10; i++) write(db.sqlite);
    // ~2 MB committed: only a checkpoint puts it in the file itself.
    await until(() => statSync(path).size >= before + 2_000_000, 'the pages to reach the database file');
    expect(db.sqlite.prepare('select count(*) as n from t').get()).toEqual({ n: 2000 });
    expect(logger.warnings).toEqual([]);
  });

  it('starts the WAL again under writes that never wait for it', async () => {
    const path = open();
    checkpoints = startCheckpointer(db.sqlite, path, { logger: logs(), everyMs: 5, restartPages: 200 });
    await until(() => autocheckpoint(db.sqlite) === 0, 'the thread to take over checkpoints');
    const salts = new Set<number>();
    const deadline = Date.now() + 10_000;
    // Commits back to back, yielding only for the thread's messages between them.
    while (salts.size < 4 && Date.now() < deadline) {
      write(db.sqlite);
      salts.add(walSalt(path));
      await new Promise((r) => setImmediate(r));
    }
    // A new salt is the WAL starting again from its beginning; without that it holds every commit.
    expect(salts.size).toBe(4);
  });

  it('falls back to checkpoints after commits when the thread fails', async () => {
    open();
    const logger = logs();
    checkpoints = startCheckpointer(db.sqlite, join(dir.path, 'missing.sqlite'), { logger });
    // Ready as well: a server whose thread cannot start still starts, with commits checkpointing.
    await checkpoints.ready;
    expect(logger.warnings).toEqual([
      'background checkpoints stopped (thread failed): commits checkpoint again',
    ]);
    expect(autocheckpoint(db.sqlite)).toBe(AUTOCHECKPOINT_PAGES);
  });

  it('hands checkpoints back to commits when its passes keep failing', async () => {
    open();
    const logger = logs();
    const notADatabase = join(dir.path, 'not-a-database');
    writeFileSync(notADatabase, 'x'.repeat(4096));
    checkpoints = startCheckpointer(db.sqlite, notADatabase, { logger, everyMs: 5 });
    await until(() => logger.warnings.length === 5, 'five warnings');
    expect(logger.warnings).toEqual([
      ...Array(4).fill('a background checkpoint failed'),
      'background checkpoints stopped (thread failed): commits checkpoint again',
    ]);
    expect(autocheckpoint(db.sqlite)).toBe(AUTOCHECKPOINT_PAGES);
  });

  it('hands checkpoints back to commits when stopped', async () => {
    const path = open();
    const logger = logs();
    checkpoints = startCheckpointer(db.sqlite, path, { logger });
    await until(() => autocheckpoint(db.sqlite) === 0, 'the thread to take over checkpoints');
    await checkpoints.stop();
    expect(autocheckpoint(db.sqlite)).toBe(AUTOCHECKPOINT_PAGES);
    expect(logger.warnings).toEqual([]);
  });
});
