import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type RelayDatabase } from '../../src/db/client.js';
import { sqliteEventStore } from '../../src/ingest/store.js';
import { SqliteJobQueue } from '../../src/queue/sqlite-store.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A restart whose clock is behind the last run's (NTP stepped it back, the VM moved): processing
 * takes events in id order and a lane runs its jobs in id order, so what is made after the restart
 * must sort after what was stored before it.
 */
const HOUR = 3_600_000;
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** An id as the last run made it, its clock an hour ahead (built by hand: newId would move this process's own floor). */
function madeAt(prefix: string, ms: number): string {
  let time = '';
  for (let i = 0, t = ms; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32] + time;
  return `${prefix}_${time}zzzzzzzzzzzzzzzz`;
}

let dir: ReturnType<typeof tempDir>;
let database: RelayDatabase;
beforeEach(() => {
  dir = tempDir('restart-clock');
  database = openDatabase(`${dir.path}/relay.sqlite`);
  database.migrate();
});
afterEach(() => {
  database.close();
  dir.cleanup();
});

describe('after a restart on a clock set back', () => {
  it('a new event sorts after every stored one', async () => {
    const now = Date.now();
    const stored = madeAt('evt', now + HOUR);
    database.sqlite
      .prepare(
        `insert into sources (id, org_id, name, auth, secret_sealed, created_at) values (?, ?, ?, ?, ?, ?)`,
      )
      .run('src_1', 'org-a', 'CRM', 'standard-webhooks', 'sealed', now);
    database.sqlite
      .prepare(
        `insert into events (id, org_id, source_id, received_at, body, headers, state)
         values (?, 'org-a', 'src_1', ?, '{}', '{}', 'pending')`,
      )
      .run(stored, now + HOUR);
    const events = sqliteEventStore(database.sqlite, { dedupWindowMs: HOUR });
    const answer = await events.accept({
      orgId: 'org-a',
      sourceId: 'src_1',
      receivedAt: now,
      dedupKey: 'msg-after-restart',
      body: '{"a":1}',
      headers: {},
    });
    expect('eventId' in answer && answer.eventId > stored).toBe(true);
  });

  it('a new job sorts after every stored one', () => {
    const now = Date.now();
    const stored = madeAt('job', now + HOUR);
    database.sqlite
      .prepare(
        `insert into jobs (id, kind, org_id, lane, payload, status, attempts, max_attempts, run_at, created_at, updated_at)
         values (?, 'work', 'org-a', 'l', '{}', 'pending', 0, 10, ?, ?, ?)`,
      )
      .run(stored, now + HOUR, now + HOUR, now + HOUR);
    const queue = new SqliteJobQueue(database.sqlite);
    const [id] = database.sqlite.transaction(() =>
      queue.enqueue([{ kind: 'work', orgId: 'org-a', lane: 'l', payload: {} }], now),
    )();
    expect(id! > stored).toBe(true);
  });
});
