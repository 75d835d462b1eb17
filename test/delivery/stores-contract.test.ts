import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appendAuditPg } from '../../src/audit/pg-store.js';
import { appendAudit } from '../../src/audit/store.js';
import type { AuditEntry } from '../../src/audit/types.js';
import { openDatabase } from '../../src/db/client.js';
import { openPgDatabase, type PgDatabase } from '../../src/db/pg/client.js';
import * as pgSchema from '../../src/db/pg/schema.js';
import * as sqliteSchema from '../../src/db/schema.js';
import { pgDeliveryQueries } from '../../src/delivery/deliveries-pg-store.js';
import { type DeliveryQueries, sqliteDeliveryQueries } from '../../src/delivery/deliveries-store.js';
import { pgEventProcessingStore } from '../../src/delivery/events-pg-store.js';
import { type EventProcessingStore, sqliteEventProcessingStore } from '../../src/delivery/events-store.js';
import { DELIVER_JOB } from '../../src/delivery/process-events.js';
import { pgDeliveryRecorder } from '../../src/delivery/recorder-pg-store.js';
import { type DeliveryRecorder, sqliteDeliveryRecorder } from '../../src/delivery/recorder-store.js';
import { PgJobQueue } from '../../src/queue/pg-store.js';
import type { JobQueue, NewJob } from '../../src/queue/queue.js';
import { SqliteJobQueue } from '../../src/queue/sqlite-store.js';
import { settled } from '../helpers/audit-staged.js';
import { startPgDatabase } from '../helpers/pg-db.js';
import { tempDir } from '../helpers/tmp.js';

/** The delivery side's stores behave alike on SQLite and PostgreSQL. */

interface Backend {
  queue: JobQueue;
  processing: EventProcessingStore;
  recorder: DeliveryRecorder;
  queries: DeliveryQueries;
  addEvent(id: string, orgId: string): Promise<void>;
  /** What POST /v1/events/{id}/replay does to the row. */
  replay(id: string): Promise<void>;
  audit(entry: AuditEntry): Promise<void>;
  count(table: 'jobs' | 'audit_log' | 'delivery_attempts'): Promise<number>;
  close(): Promise<void>;
}

const event = (id: string, orgId: string) => ({
  id,
  orgId,
  sourceId: 'src_1',
  receivedAt: 1_000,
  body: JSON.stringify({ id }),
  headers: '{}',
});

let pg: Awaited<ReturnType<typeof startPgDatabase>>;
beforeAll(async () => {
  pg = await startPgDatabase();
});
afterAll(() => pg?.close());

function sqliteBackend(): Backend {
  const dir = tempDir('delivery-contract');
  const database = openDatabase(`${dir.path}/d.sqlite`);
  database.migrate();
  const queue = new SqliteJobQueue(database.sqlite);
  return {
    queue,
    processing: sqliteEventProcessingStore(database.sqlite, queue),
    recorder: sqliteDeliveryRecorder(database.sqlite),
    queries: sqliteDeliveryQueries(database.sqlite),
    addEvent: async (id, orgId) => {
      database.db.insert(sqliteSchema.events).values(event(id, orgId)).run();
    },
    replay: async (id) => {
      database.sqlite
        .prepare("update events set state = 'pending', replays = replays + 1 where id = ?")
        .run(id);
    },
    audit: async (entry) => {
      database.db.transaction((tx) => appendAudit(tx, entry));
    },
    count: async (table) =>
      (settled(database).prepare(`select count(*) as n from ${table}`).get() as { n: number }).n,
    close: async () => {
      database.close();
      dir.cleanup();
    },
  };
}

async function pgBackend(database: PgDatabase = pg.database): Promise<Backend> {
  const queue = new PgJobQueue(database);
  return {
    queue,
    processing: pgEventProcessingStore(database, queue),
    recorder: pgDeliveryRecorder(database),
    queries: pgDeliveryQueries(database),
    addEvent: async (id, orgId) => {
      await database.db.insert(pgSchema.events).values(event(id, orgId));
    },
    replay: async (id) => {
      await database.sql`update events set state = 'pending', replays = replays + 1 where id = ${id}`;
    },
    audit: async (entry) => {
      await database.db.transaction((tx) => appendAuditPg(tx, entry));
    },
    count: async (table) => {
      const [r] = await database.sql<{ n: number }[]>`select count(*)::int as n from ${database.sql(table)}`;
      return r!.n;
    },
    close: () => queue.close(),
  };
}

const matched = (eventId: string, orgId: string): AuditEntry => ({
  orgId,
  at: 2_000,
  kind: 'event.matched',
  actor: { type: 'system' },
  eventId,
  outcome: 'matched',
});

const deliver = (eventId: string, orgId: string, participant: string, replays = 0): NewJob => ({
  kind: DELIVER_JOB,
  orgId,
  lane: `${orgId}:${participant}`,
  payload: { eventId, target: { participant }, attributes: { a: participant }, rules: [] },
  idempotencyKey: `${eventId}\u0000${replays}\u0000${participant}`,
});

describe.each([
  ['SQLite', async () => sqliteBackend()],
  [
    'PostgreSQL',
    async () => {
      await pg.database
        .sql`truncate jobs, finished_job_counts, audit_log, audit_heads, events, delivery_attempts`;
      return pgBackend();
    },
  ],
] as const)('delivery stores on %s', (_name, open) => {
  let b: Backend;
  beforeEach(async () => {
    b = await open();
  });
  afterEach(() => b.close());

  it('pending lists the oldest pending events; commit records audit, jobs and state once', async () => {
    for (const id of ['evt_1', 'evt_2', 'evt_3']) await b.addEvent(id, id === 'evt_2' ? 'org-b' : 'org-a');
    const pending = await b.processing.pending(2);
    expect(pending.map((e) => [e.id, e.orgId, e.body, e.replays])).toEqual([
      ['evt_1', 'org-a', { id: 'evt_1' }, 0],
      ['evt_2', 'org-b', { id: 'evt_2' }, 0],
    ]);
    const decisions = [
      {
        eventId: 'evt_1',
        replays: 0,
        audit: matched('evt_1', 'org-a'),
        jobs: [deliver('evt_1', 'org-a', 'p1')],
      },
      {
        eventId: 'evt_2',
        replays: 0,
        audit: matched('evt_2', 'org-b'),
        jobs: [deliver('evt_2', 'org-b', 'p1'), deliver('evt_2', 'org-b', 'p2')],
      },
    ];
    expect(await b.processing.commit(decisions, 3_000)).toEqual(['evt_1', 'evt_2']);
    expect(await b.processing.commit(decisions, 3_000)).toEqual([]);
    expect(await b.count('jobs')).toBe(3);
    expect(await b.count('audit_log')).toBe(2);
    expect((await b.processing.pending(10)).map((e) => e.id)).toEqual(['evt_3']);
  });

  it('a decision read before a replay records nothing: the event waits, pending, for today’s rules', async () => {
    await b.addEvent('evt_1', 'org-a');
    const [read] = await b.processing.pending(1);
    const decision = {
      eventId: 'evt_1',
      replays: read!.replays,
      audit: matched('evt_1', 'org-a'),
      jobs: [deliver('evt_1', 'org-a', 'p1')],
    };
    // Meanwhile another instance processed it, and an admin replayed it.
    await b.replay('evt_1');
    expect(await b.processing.commit([decision], 3_000)).toEqual([]);
    expect(await b.count('jobs')).toBe(0);
    const [again] = await b.processing.pending(1);
    expect([again?.id, again?.replays]).toEqual(['evt_1', 1]);
    const replayed = { ...decision, replays: 1, jobs: [deliver('evt_1', 'org-a', 'p1', 1)] };
    expect(await b.processing.commit([replayed], 3_000)).toEqual(['evt_1']);
    expect(await b.count('jobs')).toBe(1);
  });

  it('finds an event’s deliveries by their keys, and reports the last applied PATCH and 429', async () => {
    await b.addEvent('evt_1', 'org-a');
    await b.addEvent('evt_10', 'org-a');
    await b.processing.commit(
      [
        {
          eventId: 'evt_1',
          replays: 0,
          audit: matched('evt_1', 'org-a'),
          jobs: [deliver('evt_1', 'org-a', 'p1'), deliver('evt_1', 'org-a', 'p2')],
        },
        {
          eventId: 'evt_10',
          replays: 0,
          audit: matched('evt_10', 'org-a'),
          jobs: [deliver('evt_10', 'org-a', 'p1')],
        },
      ],
      3_000,
    );
    const rows = await b.queries.ofEvent('org-a', 'evt_1');
    expect(rows.map((r) => [r.status, r.attempts, r.nextAttemptAt, r.attributes])).toEqual([
      ['pending', 0, 3_000, { a: 'p1' }],
      ['pending', 0, 3_000, { a: 'p2' }],
    ]);
    expect(await b.queries.ofEvent('org-b', 'evt_1')).toEqual([]);

    expect(await b.queries.lastApplied('org-a')).toBeNull();
    await b.audit({ ...matched('evt_1', 'org-a'), kind: 'patch.applied', at: 4_000 });
    await b.audit({ ...matched('evt_1', 'org-a'), kind: 'patch.applied', at: 5_000 });
    expect(await b.queries.lastApplied('org-a')).toBe(5_000);

    const call = {
      orgId: 'org-a',
      jobId: 'job_1',
      operation: 'PATCH participant attributes',
      outcome: 'rate-limited',
      code: undefined,
      correlationId: undefined,
      durationMs: 12.4,
    };
    await b.recorder.attempt({ ...call, eventIds: ['evt_1', 'evt_10'], at: 6_000, status: 429 });
    await b.recorder.attempt({ ...call, eventIds: ['evt_1'], at: 7_000, status: 200 });
    expect(await b.count('delivery_attempts')).toBe(3);
    expect(await b.queries.lastRateLimited('org-a')).toBe(6_000);
    expect(await b.queries.lastRateLimited('org-b')).toBeNull();
  });
});

describe('pgEventProcessingStore across instances', () => {
  it('two instances committing the same events at once enqueue each event’s jobs once', async () => {
    await pg.database
      .sql`truncate jobs, finished_job_counts, audit_log, audit_heads, events, delivery_attempts`;
    const other = openPgDatabase(pg.url, { max: 2 });
    try {
      const one = await pgBackend();
      const two = await pgBackend(other);
      const ids = Array.from({ length: 30 }, (_, i) => `evt_${String(i).padStart(2, '0')}`);
      for (const [i, id] of ids.entries()) await one.addEvent(id, `org-${i % 3}`);
      const decisions = ids.map((id, i) => ({
        eventId: id,
        replays: 0,
        audit: matched(id, `org-${i % 3}`),
        jobs: [deliver(id, `org-${i % 3}`, 'p')],
      }));
      // Overlapping batches in different orders, as two instances reading the same backlog would.
      const [a, c] = await Promise.all([
        one.processing.commit(decisions.slice(0, 20), 3_000),
        two.processing.commit([...decisions.slice(10)].reverse(), 3_000),
      ]);
      expect(new Set([...a, ...c]).size).toBe(a.length + c.length);
      const rest = await one.processing.commit(decisions, 3_000);
      expect(new Set([...a, ...c, ...rest])).toEqual(new Set(ids));
      expect(await one.count('jobs')).toBe(30);
      expect(await one.count('audit_log')).toBe(30);
    } finally {
      await other.close();
    }
  });
});
