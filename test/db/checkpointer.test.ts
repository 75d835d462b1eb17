import { statSync } from 'node:fs';
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
    await until(() => autocheckpoint(db.sqlite) === 0, 'the thread to take over checkpoints');
    const before = statSync(path).size;
    for (let i = 0; i < 10; i++) write(db.sqlite);
    // ~2 MB committed: only a checkpoint puts it in the file itself.
    await until(() => statSync(path).size >= before + 2_000_000, 'the pages to reach the database file');
    expect(db.sqlite.prepare('select count(*) as n from t').get()).toEqual({ n: 2000 });
    expect(logger.warnings).toEqual([]);
  });

  it('keeps the WAL bounded under writes that never wait for it', async () => {
    const path = open();
    checkpoints = startCheckpointer(db.sqlite, path, { logger: logs(), everyMs: 5, restartPages: 200 });
    await until(() => autocheckpoint(db.sqlite) === 0, 'the thread to take over checkpoints');
    let largest = 0;
    // 20 MB of commits, yielding only for the thread's messages between them.
    for (let i = 0; i < 100; i++) {
      write(db.sqlite);
      largest = Math.max(largest, statSync(`${path}-wal`).size);
      await new Promise((r) => setImmediate(r));
    }
    // Without the WAL starting again it would hold all 20 MB.
    expect(largest).toBeLessThan(8_000_000);
  });

  it('falls back to checkpoints after commits when the thread fails', async () => {
    open();
    const logger = logs();
    checkpoints = startCheckpointer(db.sqlite, join(dir.path, 'missing.sqlite'), { logger });
    await until(() => logger.warnings.length > 0, 'a warning');
    expect(logger.warnings).toEqual([
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
