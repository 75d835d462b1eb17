import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idFloor } from '../../src/lib/ids.js';
import { pgRetentionStore } from '../../src/retention/pg-store.js';
import { PRUNED_TABLES, type RetentionStore, sqliteRetentionStore } from '../../src/retention/store.js';
import { backends, type OnBackend } from './backends.js';

const CUT = Date.parse('2026-11-25T12:00:00Z');
const OLD = CUT - 86_400_000;
const NEW = CUT + 1000;
/** An id of `prefix` made at `at`, told apart by `n` (ids are fixed-length; the tail is base32). */
const id = (prefix: 'aud' | 'evt' | 'att' | 'job', at: number, n: number) =>
  `${idFloor(prefix, at).slice(0, -2)}${String(n).padStart(2, '0')}`;

describe.each(
  backends(
    (d) => sqliteRetentionStore(d.sqlite),
    (d) => pgRetentionStore(d.db),
  ),
)('RetentionStore on %s', (_name, open) => {
  let b: OnBackend<RetentionStore>;
  /**
   * SQLite's deliver-job keys are `<event id>\0<replays>\0<target>`; PostgreSQL text cannot hold
   * \0, and its store only needs the key to start with the event id.
   */
  let sep: string;
  beforeAll(async () => {
    b = await open();
    sep = b.name === 'sqlite' ? '\u0000' : ':';
    for (const [org, days] of [
      ['org-r', 30],
      ['org-other', 7],
    ] as const) {
      await b.run(
        `insert into tenants (org_id, org_name, environment, installed_at, updated_at, grant_client_id,
           grant_secret_sealed, audit_retention_days) values (?, 'Org', 'mypurecloud.com', ?, ?, 'c', 's', ?)`,
        org,
        OLD,
        OLD,
        days,
      );
      await seed(org);
    }
  });
  afterAll(() => b?.close());

  async function seed(org: string) {
    // Ids are unique across orgs: the other org's are numbered from 50.
    const o = org === 'org-r' ? 0 : 50;
    for (let i = 0; i < 7; i++) {
      const at = i < 5 ? OLD + i : NEW + i;
      await b.run(
        `insert into audit_log (id, org_id, at, kind, actor, seq, hash) values (?, ?, ?, 'event.received', '{}', ?, 'h')`,
        id('aud', at, i + o),
        org,
        at,
        i + 1,
      );
    }
    const event = (n: number, at: number, state: string) =>
      b.run(
        `insert into events (id, org_id, source_id, received_at, body, headers, state) values (?, ?, 'src_1', ?, '{}', '{}', ?)`,
        id('evt', at, n + o),
        org,
        at,
        state,
      );
    const job = (n: number, at: number, status: string, eventN: number | null, kind = 'deliver') =>
      b.run(
        `insert into jobs (id, kind, org_id, lane, payload, status, max_attempts, run_at, idempotency_key, created_at, updated_at)
         values (?, ?, ?, 'lane', '{}', ?, 5, ?, ?, ?, ?)`,
        id('job', at, n + o),
        kind,
        org,
        status,
        at,
        eventN === null ? null : `${id('evt', OLD, eventN + o)}${sep}0${sep}participant:p${n}`,
        at,
        at,
      );
    await event(1, OLD, 'processed'); // goes: no jobs
    await event(2, OLD, 'processed'); // stays: a pending delivery
    await event(3, OLD, 'pending'); // stays: not processed yet
    await event(4, OLD, 'processed'); // goes: its delivery finished
    await event(6, OLD, 'processing'); // stays: a running delivery
    await event(7, OLD, 'processed'); // goes: an unfinished job of another kind does not hold it
    await event(5, NEW, 'processed'); // stays: after the cut
    await job(1, OLD, 'pending', 2);
    await job(2, OLD, 'succeeded', 4);
    await job(3, OLD, 'running', 6);
    await job(4, OLD, 'failed', null);
    await job(5, NEW, 'succeeded', 5);
    await job(6, OLD, 'pending', 7, 'other');
    await job(7, OLD, 'succeeded', 2); // a finished earlier delivery of event 2: goes, event 2 stays
    for (let i = 0; i < 4; i++) {
      const at = i < 3 ? OLD + i : NEW;
      await b.run(
        `insert into delivery_attempts (id, org_id, job_id, event_id, at, operation, outcome, duration_ms)
         values (?, ?, 'job_x', 'evt_x', ?, 'patch', 'applied', 5)`,
        id('att', at, i + o),
        org,
        at,
      );
    }
    for (const [key, expiresAt] of [
      ['k1', OLD],
      ['k2', CUT - 1],
      ['k3', CUT],
    ] as const) {
      await b.run(
        'insert into ingest_keys (source_id, key, org_id, event_id, expires_at) values (?, ?, ?, ?, ?)',
        'src_1',
        `${org}-${key}`,
        org,
        'evt_x',
        expiresAt,
      );
    }
  }

  const ids = async (table: string, org: string) =>
    (await b.all<{ id: string }>(`select id from ${table} where org_id = ? order by id`, org)).map(
      (r) => r.id,
    );

  it('lists every tenant with its retention', async () => {
    expect((await b.store.tenants()).sort((x, y) => x.orgId.localeCompare(y.orgId))).toEqual([
      { orgId: 'org-other', auditRetentionDays: 7 },
      { orgId: 'org-r', auditRetentionDays: 30 },
    ]);
  });

  it('prunes audit rows before the cut in batches, oldest first, counting each batch', async () => {
    const counts: number[] = [];
    for (;;) {
      const n = await b.store.prune('audit_log', 'org-r', CUT, 2);
      counts.push(n);
      if (n < 2) break;
    }
    expect(counts).toEqual([2, 2, 1]);
    expect(await ids('audit_log', 'org-r')).toEqual([id('aud', NEW + 5, 5), id('aud', NEW + 6, 6)]);
    expect(await ids('audit_log', 'org-other')).toHaveLength(7);
  });

  it('prunes events, attempts, finished jobs and expired keys; unfinished deliveries keep their events', async () => {
    const counts: Record<string, number> = {};
    // In the pruner's order (events before jobs), each until a batch comes back short.
    for (const table of PRUNED_TABLES) {
      if (table === 'audit_log') continue;
      for (;;) {
        const n = await b.store.prune(table, 'org-r', CUT, 2);
        counts[table] = (counts[table] ?? 0) + n;
        if (n < 2) break;
      }
    }
    expect(counts).toEqual({ events: 3, delivery_attempts: 3, jobs: 3, ingest_keys: 2 });
    expect(await ids('events', 'org-r')).toEqual([
      id('evt', OLD, 2),
      id('evt', OLD, 3),
      id('evt', OLD, 6),
      id('evt', NEW, 5),
    ]);
    expect(await ids('jobs', 'org-r')).toEqual([
      id('job', OLD, 1),
      id('job', OLD, 3),
      id('job', OLD, 6),
      id('job', NEW, 5),
    ]);
    expect(await ids('delivery_attempts', 'org-r')).toEqual([id('att', NEW, 3)]);
    expect(
      (await b.all<{ key: string }>('select key from ingest_keys where org_id = ?', 'org-r')).map(
        (r) => r.key,
      ),
    ).toEqual(['org-r-k3']);
    // The other org is untouched.
    expect(await ids('events', 'org-other')).toHaveLength(7);
    expect(await ids('jobs', 'org-other')).toHaveLength(7);
    expect(await b.store.prune('events', 'org-r', CUT, 10)).toBe(0);
  });
});
