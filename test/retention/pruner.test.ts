import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/store.js';
import { newId } from '../../src/lib/ids.js';
import { install, type SeededOrg, seedOrg, session, startWorld, type World } from '../helpers/world.js';

const DAY = 86_400_000;
let world: World;
/**
 * Ids are strictly increasing per process (keyset paging relies on it), and retention cuts by
 * them, so each test's clock starts past everything an earlier test made.
 */
let epoch = 0;
let a: SeededOrg;
let b: SeededOrg;

beforeEach(async () => {
  world = await startWorld();
  a = seedOrg(world, 'Short');
  b = seedOrg(world, 'Long');
  for (const [org, days] of [
    [a, 1],
    [b, 3],
  ] as const) {
    expect((await install(world, org)).status).toBe(201);
    const res = await world.call('PATCH', '/v1/tenant', {
      token: await session(world, org.admin),
      body: { settings: { auditRetentionDays: days } },
    });
    expect(res.status).toBe(200);
  }
  world.clock.advance(30 * DAY + epoch++ * 365 * DAY); // the install rows are old now too
});
afterEach(() => world.close());

const sql = () => world.app.database.sqlite;

/** One row of every pruned table for the org, made `ageMs` ago. */
function seedAt(orgId: string, ageMs: number, jobStatus = 'succeeded') {
  const at = world.clock.now() - ageMs;
  appendAudit(world.app.database.db, {
    orgId,
    at,
    kind: 'patch.applied',
    actor: { type: 'system' },
    outcome: 'applied',
  });
  const eventId = newId('evt', at);
  sql()
    .prepare(
      "insert into events (id, org_id, source_id, received_at, body, headers, state) values (?, ?, 'src_x', ?, '{}', '{}', 'processed')",
    )
    .run(eventId, orgId, at);
  sql()
    .prepare(
      `insert into jobs (id, kind, org_id, lane, payload, status, attempts, max_attempts, run_at, idempotency_key, created_at, updated_at)
       values (?, 'deliver', ?, 'lane', '{}', ?, 0, 9, ?, ?, ?, ?)`,
    )
    .run(newId('job', at), orgId, jobStatus, at, `${eventId}\u00000\u0000t`, at, at);
  sql()
    .prepare(
      `insert into delivery_attempts (id, org_id, job_id, event_id, at, operation, outcome, duration_ms)
       values (?, ?, 'job_x', ?, ?, 'patchParticipantAttributes', 'ok', 5)`,
    )
    .run(newId('att', at), orgId, eventId, at);
  sql()
    .prepare(
      "insert into ingest_keys (source_id, key, org_id, event_id, expires_at) values ('src_x', ?, ?, ?, ?)",
    )
    .run(`k-${eventId}`, orgId, eventId, at + DAY);
}

const TIME_COLUMN = {
  audit_log: 'at',
  events: 'received_at',
  delivery_attempts: 'at',
  jobs: 'created_at',
  ingest_keys: 'expires_at',
} as const;

/** The times (ms ago) of the org's rows left in a table, oldest first. */
const left = (table: keyof typeof TIME_COLUMN, orgId: string, extra = '') =>
  (
    sql()
      .prepare(`select ${TIME_COLUMN[table]} as t from ${table} where org_id = ? ${extra} order by t`)
      .all(orgId) as Array<{ t: number }>
  ).map((r) => Math.round((world.clock.now() - r.t) / 3_600_000));

describe('retention', () => {
  it('prunes exactly what is older than each org’s window, and says so once per org', async () => {
    for (const hours of [200, 120, 48, 12]) {
      for (const org of [a, b]) seedAt(org.orgId, hours * 3_600_000);
      // Unfinished work is never pruned: a job still pending, and its event.
      if (hours === 120) seedAt(a.orgId, hours * 3_600_000, 'pending');
    }

    const counts = await world.app.deps.pruner.runOnce();

    // Org A keeps 1 day: the 12 h rows. Org B keeps 3 days: the 48 h and 12 h rows.
    expect(left('audit_log', a.orgId, "and kind != 'audit.pruned'")).toEqual([12]);
    expect(left('audit_log', b.orgId, "and kind != 'audit.pruned'")).toEqual([48, 12]);
    expect(left('events', a.orgId)).toEqual([120, 12]);
    expect(left('events', b.orgId)).toEqual([48, 12]);
    expect(left('delivery_attempts', a.orgId)).toEqual([12]);
    expect(left('delivery_attempts', b.orgId)).toEqual([48, 12]);
    expect(left('jobs', a.orgId)).toEqual([120, 12]);
    expect(left('jobs', b.orgId)).toEqual([48, 12]);
    // Dedup keys live a day past their event, whatever the org's window.
    expect(left('ingest_keys', a.orgId)).toEqual([-12]);
    expect(left('ingest_keys', b.orgId)).toEqual([-12]);

    expect(counts[a.orgId]).toEqual({
      audit_log: 6, // four seeded past the cut + tenant.installed + tenant.updated
      events: 3,
      delivery_attempts: 4,
      jobs: 3,
      ingest_keys: 4,
    });
    const pruned = sql()
      .prepare("select org_id, detail from audit_log where kind = 'audit.pruned' order by org_id")
      .all() as Array<{ org_id: string; detail: string }>;
    expect(pruned.map((p) => p.org_id).sort()).toEqual([a.orgId, b.orgId].sort());
    const detailOfA = JSON.parse(pruned.find((p) => p.org_id === a.orgId)!.detail);
    expect(detailOfA).toEqual({
      counts: counts[a.orgId],
      cut: new Date(world.clock.now() - DAY).toISOString(),
      retentionDays: 1,
    });
    // The chain still verifies: the last pruned row was signed first, and anchors the first kept.
    for (const org of [a, b]) {
      expect(await world.app.deps.auditSeal.verify(org.orgId)).toMatchObject({ ok: true });
    }
    const anchors = await world.app.deps.auditChain.checkpoints(a.orgId);
    // Row 6 was the last pruned (the anchor); 7 is the head, signed by the hourly checkpoint.
    expect(anchors.map((c) => c.seq)).toEqual([6, 7]);
    const metrics = await (await fetch(`${world.app.url}/metrics`)).text();
    expect(metrics).toMatch(/relay_retention_pruned_rows_total\{table="audit_log"\} \d+/);
  });

  it('a run with nothing to prune writes nothing', async () => {
    await world.app.deps.pruner.runOnce();
    const before = sql().prepare('select count(*) from audit_log').pluck().get();
    expect(await world.app.deps.pruner.runOnce()).toEqual({});
    expect(sql().prepare('select count(*) from audit_log').pluck().get()).toBe(before);
  });

  it('deletes in small batches: thousands of old rows go, a few hundred at a time', async () => {
    const at = world.clock.now() - 10 * DAY;
    world.app.database.sqlite.transaction(() => {
      for (let i = 0; i < 2_500; i++) {
        appendAudit(world.app.database.db, {
          orgId: a.orgId,
          at,
          kind: 'event.received',
          actor: { type: 'system' },
        });
      }
    })();
    const counts = await world.app.deps.pruner.runOnce();
    expect(counts[a.orgId]?.audit_log).toBe(2_502);
    expect(left('audit_log', a.orgId, "and kind != 'audit.pruned'")).toEqual([]);
  });
});
