import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import type { DivisionCoverage } from '../tenants/division-coverage.js';

/**
 * The tables. Times are integer milliseconds since the epoch; ids are prefixed strings from
 * `lib/ids.ts`. Only store modules under src/ touch these (a PostgreSQL backend will follow, so
 * features never build SQL themselves).
 */

/** One row per installed Genesys Cloud org. The org id (a UUID) is the tenant id. */
export const tenants = sqliteTable('tenants', {
  orgId: text().primaryKey(),
  orgName: text().notNull(),
  /** The Genesys environment the org was installed from, e.g. `mypurecloud.ie`. */
  environment: text().notNull(),
  installedAt: integer().notNull(),
  updatedAt: integer().notNull(),
  requestsPerMinute: integer().notNull().default(300),
  auditRetentionDays: integer().notNull().default(90),
  /** Longest attribute value a rule may produce; longer ones are dropped (`too_long`). */
  maxAttributeValueLength: integer().notNull().default(2000),
  /** The target participant ended while the conversation goes on: skip, or PATCH it anyway. */
  endedParticipants: text({ enum: ['skip', 'patch-until-conversation-ends'] })
    .notNull()
    .default('skip'),
  /** The client-credentials grant; the secret is a JWE sealed to this org (crypto/secrets.ts). */
  grantClientId: text().notNull(),
  grantSecretSealed: text().notNull(),
  /** True when we created the OAuth client (and role) through the Genesys API at install. */
  grantManaged: integer({ mode: 'boolean' }).notNull().default(false),
  managedRoleId: text(),
  grantStatus: text({ enum: ['ok', 'invalid_credentials', 'wrong_org', 'unreachable'] })
    .notNull()
    .default('ok'),
  grantLastTokenAt: integer(),
  grantLastError: text(),
  /** JSON `{checkedAt, total, missing: [{id, name}]}`: the org's divisions the grant's roles lack. */
  grantDivisions: text({ mode: 'json' }).$type<DivisionCoverage>(),
  /** Whether the org still holds the app's product (GENESYS_PRODUCT_ID), and when that was read. */
  licenseStatus: text({ enum: ['licensed', 'unlicensed'] })
    .notNull()
    .default('licensed'),
  licenseCheckedAt: integer(),
});

/** An audit row's columns, as `audit_log` and `audit_staged` both hold them. */
const auditColumns = () => ({
  id: text().notNull(),
  orgId: text().notNull(),
  at: integer().notNull(),
  kind: text().notNull(),
  /** JSON: `{type: 'user'|'source'|'system', id?, name?}`. */
  actor: text().notNull(),
  sourceId: text(),
  eventId: text(),
  /** JSON array of rule ids (with versions in `detail`). */
  ruleIds: text(),
  conversationId: text(),
  participantId: text(),
  outcome: text(),
  /** JSON object, secrets stripped. */
  detail: text(),
  /** The row's place in its org's hash chain (1, 2, …); null for rows older than the chain. */
  seq: integer(),
  /** SHA-256 (hex) of the previous row's hash and this row (src/audit/chain.ts). */
  hash: text(),
});

/**
 * Append-only (openstatus): no foreign keys, because rows outlive their subjects, and no code path
 * updates or deletes except retention pruning and the uninstall purge. Written in the same
 * transaction as the change it records.
 */
export const auditLog = sqliteTable('audit_log', { ...auditColumns(), id: text().primaryKey() }, (t) => [
  // Newest-first keyset pages per org: ids are time-sortable, so (org_id, id) orders by time.
  index('audit_org_id').on(t.orgId, t.id),
  uniqueIndex('audit_org_seq').on(t.orgId, t.seq),
  index('audit_org_kind').on(t.orgId, t.kind, t.id),
  // A conversation filter never looks for rows without one (every event.received row).
  index('audit_org_conversation').on(t.orgId, t.conversationId, t.id).where(sql`conversation_id is not null`),
  index('audit_org_event').on(t.orgId, t.eventId),
  // An outcome or source filter walked the org's whole (org_id, id) index when few rows matched.
  index('audit_org_outcome').on(t.orgId, t.outcome, t.id),
  index('audit_org_source').on(t.orgId, t.sourceId, t.id),
]);

/**
 * Audit rows the hot paths (ingest, processing, settles) wrote and that are not yet in `audit_log`:
 * the same columns, no index. Each second they move into `audit_log` together, sorted by org, so
 * many rows of one org share each index page a commit writes; written one commit at a time, every
 * row cost a page in each of audit_log's org-keyed indexes (src/audit/staging-store.ts has the figures).
 * Every reader of `audit_log` moves them first, so no read misses one. SQLite only: PostgreSQL logs
 * rows, not pages.
 */
export const auditStaged = sqliteTable('audit_staged', auditColumns());

/**
 * The rules each audit row names, one row per (row, rule): `audit_log.rule_ids` is a JSON array,
 * which no index reaches into, so a ruleId filter read every row of the org. Written and deleted
 * with audit_log's rows by triggers (migrations/0013_audit_rule_ids.sql), never by the app.
 */
export const auditRuleIds = sqliteTable(
  'audit_rule_ids',
  {
    orgId: text().notNull(),
    ruleId: text().notNull(),
    auditId: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.ruleId, t.auditId] })],
);

/** Where events come from. Secrets are sealed to the org (crypto/secrets.ts); shown once. */
export const sources = sqliteTable(
  'sources',
  {
    id: text().primaryKey(),
    orgId: text().notNull(),
    name: text().notNull(),
    auth: text({ enum: ['standard-webhooks', 'bearer'] }).notNull(),
    secretSealed: text().notNull(),
    /** After a rotation the previous secret keeps working until `previousValidUntil`. */
    previousSecretSealed: text(),
    previousValidUntil: integer(),
    createdAt: integer().notNull(),
    rotatedAt: integer(),
  },
  (t) => [index('sources_org').on(t.orgId, t.id)],
);

/**
 * Each org's chain head: the last row's seq and hash. Appends read and move it in the row's own
 * transaction, so two writers can never fork a chain (on PostgreSQL: a row lock on it).
 */
export const auditHeads = sqliteTable('audit_heads', {
  orgId: text().primaryKey(),
  seq: integer().notNull(),
  hash: text().notNull(),
});

/** Signed chain heads (Ed25519): hourly while rows are written, and at every retention cut. */
export const auditCheckpoints = sqliteTable(
  'audit_checkpoints',
  {
    orgId: text().notNull(),
    seq: integer().notNull(),
    hash: text().notNull(),
    at: integer().notNull(),
    signature: text().notNull(),
    kid: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.seq] })],
);

/**
 * Accepted events. `state` is the hand-off to processing: ingest commits `pending`, the
 * processor (delivery) takes it from there, so accepting never waits on Genesys.
 */
export const events = sqliteTable(
  'events',
  {
    id: text().primaryKey(),
    orgId: text().notNull(),
    sourceId: text().notNull(),
    receivedAt: integer().notNull(),
    /** `webhook-id` or `Idempotency-Key`, when the sender gave one. */
    dedupKey: text(),
    /** The raw JSON body as received (it is what was signed). */
    body: text().notNull(),
    /** JSON: the few request headers worth keeping (ids, timestamp, user agent, content type). */
    headers: text().notNull(),
    state: text({ enum: ['pending', 'processing', 'processed'] })
      .notNull()
      .default('pending'),
    /** How many times an admin replayed it: part of its jobs' idempotency keys. */
    replays: integer().notNull().default(0),
  },
  (t) => [
    index('events_org').on(t.orgId, t.id), // Only the events processing has not taken yet: a processed event leaves it (56 B an event).
    index('events_state').on(t.state, t.id).where(sql`state = 'pending'`),
  ],
);

/**
 * Per-source dedup of `webhook-id` / `Idempotency-Key`, kept at least the dedup window (24 h by
 * default). Its own table so pruning it never touches events.
 */
export const ingestKeys = sqliteTable(
  'ingest_keys',
  {
    sourceId: text().notNull(),
    key: text().notNull(),
    orgId: text().notNull(),
    eventId: text().notNull(),
    expiresAt: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.key] }), index('ingest_keys_org').on(t.orgId)],
);

/** A rule's identity; its content lives in versions. Deleted rules keep their versions. */
export const rules = sqliteTable(
  'rules',
  {
    id: text().primaryKey(),
    orgId: text().notNull(),
    currentVersion: integer().notNull(),
    createdAt: integer().notNull(),
    updatedAt: integer().notNull(),
    deletedAt: integer(),
  },
  (t) => [index('rules_org').on(t.orgId, t.id)],
);

/**
 * Every saved version of every rule, never changed once written: the audit's ruleId + version
 * always resolves to the exact rule that acted.
 */
export const ruleVersions = sqliteTable(
  'rule_versions',
  {
    ruleId: text().notNull(),
    version: integer().notNull(),
    orgId: text().notNull(),
    /** JSON of the validated rule body. */
    body: text().notNull(),
    createdAt: integer().notNull(),
    /** JSON actor who saved it. */
    createdBy: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.version] }), index('rule_versions_org').on(t.orgId)],
);

/**
 * The durable job queue (src/queue/): generic, it knows nothing of Genesys. A lane runs one job at
 * a time, oldest first (per-participant order); a lease (`lockedUntil`) that runs out makes a
 * crashed worker's job claimable again.
 */
export const jobs = sqliteTable(
  'jobs',
  {
    id: text().primaryKey(),
    kind: text().notNull(),
    orgId: text().notNull(),
    lane: text().notNull(),
    /** JSON. */
    payload: text().notNull(),
    status: text({ enum: ['pending', 'running', 'succeeded', 'failed'] }).notNull(),
    /** Failed attempts so far (a 429 or a budget wait does not count). */
    attempts: integer().notNull().default(0),
    maxAttempts: integer().notNull(),
    runAt: integer().notNull(),
    lockedUntil: integer(),
    /**
     * The allocation (one run, and the jobs it folded in) that last held the job. Every state
     * change names it, so a run that lost its lease changes nothing. Cleared when the job is
     * settled or released; still set on jobs a dead process held, so they fold together again.
     */
    owner: text(),
    lastError: text(),
    idempotencyKey: text(),
    createdAt: integer().notNull(),
    updatedAt: integer().notNull(),
  },
  (t) => [
    uniqueIndex('jobs_idempotency').on(t.kind, t.idempotencyKey),
    index('jobs_ready').on(t.status, t.runAt),
    // Every lane lookup asks for unfinished jobs only: a finished one leaves it (175 B a job).
    index('jobs_lane').on(t.lane, t.status, t.id).where(sql`status in ('pending', 'running')`),
    index('jobs_org').on(t.orgId, t.status),
    /**
     * The claim's paths into a backlog of any size: orgs with pending jobs (a skip scan, one seek
     * an org) and each org's oldest ready jobs, in the order its lane heads are taken.
     */
    index('jobs_pending').on(t.orgId, t.runAt, t.id).where(sql`status = 'pending'`),
    // The oldest unfinished job for /metrics in one seek: without it, a look at every unfinished
    // row (86 ms a scrape with 1M pending on SQLite). Finished jobs leave it.
    index('jobs_oldest').on(t.createdAt).where(sql`status in ('pending', 'running')`),
  ],
);

/**
 * How many finished jobs there are, by status (the sum over shards): /metrics reads these instead
 * of counting a week of finished jobs, which blocked SQLite's event loop 40 ms per million jobs.
 * Kept by triggers on jobs (migrations/0017_finished_job_counts.sql), never by the app: a job
 * touches it once when it finishes and once when retention deletes it. Unfinished jobs are counted
 * from their partial indexes instead. `shard`: always 0 on SQLite; on PostgreSQL each connection
 * adds to its own, so the settles of several instances never queue on one row.
 */
export const finishedJobCounts = sqliteTable(
  'finished_job_counts',
  {
    status: text({ enum: ['succeeded', 'failed'] }).notNull(),
    shard: integer().notNull(),
    n: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.status, t.shard] })],
);

/** Every request a delivery made to Genesys: what happened, for GET /v1/events/{id} and support. */
export const deliveryAttempts = sqliteTable(
  'delivery_attempts',
  {
    id: text().primaryKey(),
    orgId: text().notNull(),
    jobId: text().notNull(),
    eventId: text().notNull(),
    at: integer().notNull(),
    operation: text().notNull(),
    /** HTTP status, or null when no response came back. */
    status: integer(),
    /** Our classification: ok, rate_limited, retryable, … */
    outcome: text().notNull(),
    code: text(),
    correlationId: text(),
    durationMs: integer().notNull(),
  },
  (t) => [
    index('attempts_event').on(t.orgId, t.eventId),
    // Only for "the org's last 429" (tenant health): the other calls need no entry (124 B each).
    index('attempts_org_status').on(t.orgId, t.at).where(sql`status = 429`),
  ],
);

/** Tables that hold no org's rows, only figures over all of them: nothing to purge at uninstall. */
export const SHARED_TABLES = ['finished_job_counts'] as const;

/**
 * Every table holding an org's rows, keyed by its `org_id` column: uninstall purges each. A new
 * tenant table must join this list (test/api/tenancy.test.ts counts rows per table to prove it).
 */
export const ORG_TABLES = [
  { table: tenants, orgId: tenants.orgId },
  { table: auditLog, orgId: auditLog.orgId },
  { table: auditStaged, orgId: auditStaged.orgId },
  { table: auditRuleIds, orgId: auditRuleIds.orgId },
  { table: auditHeads, orgId: auditHeads.orgId },
  { table: auditCheckpoints, orgId: auditCheckpoints.orgId },
  { table: sources, orgId: sources.orgId },
  { table: events, orgId: events.orgId },
  { table: ingestKeys, orgId: ingestKeys.orgId },
  { table: rules, orgId: rules.orgId },
  { table: ruleVersions, orgId: ruleVersions.orgId },
  { table: jobs, orgId: jobs.orgId },
  { table: deliveryAttempts, orgId: deliveryAttempts.orgId },
] as const;
