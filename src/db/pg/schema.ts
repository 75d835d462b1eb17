import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { DivisionCoverage } from '../../tenants/division-coverage.js';

/**
 * The PostgreSQL twin of `../schema.ts`: the same tables, columns (snake_case) and indexes, so a
 * store reads and writes the same row shapes on either backend; test/db/pg-schema.test.ts fails
 * when the two drift. Change both together, then `npm run db:generate` and `npm run db:generate:pg`.
 *
 * Types: times are epoch milliseconds in `bigint` (mode number: they pass 2^31, not 2^53); so are
 * the audit chain's `seq` (a busy org passes 2^31 rows in a year). Counts and HTTP statuses stay
 * `integer`, flags `boolean`. JSON columns that SQLite keeps as plain text stay `text`: the stores
 * encode and parse them, and `events.body` must stay byte-for-byte as received (jsonb would
 * reformat it). The one column drizzle parses on SQLite (`grant_divisions`) is `jsonb`, so both
 * backends hand the stores the same object.
 */

const epochMs = () => bigint({ mode: 'number' });

/** One row per installed Genesys Cloud org. The org id (a UUID) is the tenant id. */
export const tenants = pgTable('tenants', {
  orgId: text().primaryKey(),
  orgName: text().notNull(),
  environment: text().notNull(),
  installedAt: epochMs().notNull(),
  updatedAt: epochMs().notNull(),
  requestsPerMinute: integer().notNull().default(300),
  auditRetentionDays: integer().notNull().default(90),
  maxAttributeValueLength: integer().notNull().default(2000),
  endedParticipants: text({ enum: ['skip', 'patch-until-conversation-ends'] })
    .notNull()
    .default('skip'),
  grantClientId: text().notNull(),
  grantSecretSealed: text().notNull(),
  grantManaged: boolean().notNull().default(false),
  managedRoleId: text(),
  grantStatus: text({ enum: ['ok', 'invalid_credentials', 'wrong_org', 'unreachable'] })
    .notNull()
    .default('ok'),
  grantLastTokenAt: epochMs(),
  grantLastError: text(),
  grantDivisions: jsonb().$type<DivisionCoverage>(),
  licenseStatus: text({ enum: ['licensed', 'unlicensed'] })
    .notNull()
    .default('licensed'),
  licenseCheckedAt: epochMs(),
});

/** Append-only, no foreign keys (see ../schema.ts). */
export const auditLog = pgTable(
  'audit_log',
  {
    id: text().primaryKey(),
    orgId: text().notNull(),
    at: epochMs().notNull(),
    kind: text().notNull(),
    actor: text().notNull(),
    sourceId: text(),
    eventId: text(),
    ruleIds: text(),
    conversationId: text(),
    participantId: text(),
    outcome: text(),
    detail: text(),
    seq: bigint({ mode: 'number' }),
    hash: text(),
  },
  (t) => [
    index('audit_org_id').on(t.orgId, t.id),
    uniqueIndex('audit_org_seq').on(t.orgId, t.seq),
    index('audit_org_kind').on(t.orgId, t.kind, t.id),
    // A conversation filter never looks for rows without one (every event.received row).
    index('audit_org_conversation')
      .on(t.orgId, t.conversationId, t.id)
      .where(sql`conversation_id is not null`),
    index('audit_org_event').on(t.orgId, t.eventId),
    index('audit_org_outcome').on(t.orgId, t.outcome, t.id),
    index('audit_org_source').on(t.orgId, t.sourceId, t.id),
  ],
);

/**
 * The rules each audit row names (see ../schema.ts): kept in step with audit_log by triggers
 * (migrations-pg/0002_audit_rule_ids_triggers.sql), never by the app.
 */
export const auditRuleIds = pgTable(
  'audit_rule_ids',
  {
    orgId: text().notNull(),
    ruleId: text().notNull(),
    auditId: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.ruleId, t.auditId] })],
);

export const sources = pgTable(
  'sources',
  {
    id: text().primaryKey(),
    orgId: text().notNull(),
    name: text().notNull(),
    auth: text({ enum: ['standard-webhooks', 'bearer'] }).notNull(),
    secretSealed: text().notNull(),
    previousSecretSealed: text(),
    previousValidUntil: epochMs(),
    createdAt: epochMs().notNull(),
    rotatedAt: epochMs(),
  },
  (t) => [index('sources_org').on(t.orgId, t.id)],
);

/** Each org's chain head; appends lock its row, so several writers never fork a chain. */
export const auditHeads = pgTable('audit_heads', {
  orgId: text().primaryKey(),
  seq: bigint({ mode: 'number' }).notNull(),
  hash: text().notNull(),
});

export const auditCheckpoints = pgTable(
  'audit_checkpoints',
  {
    orgId: text().notNull(),
    seq: bigint({ mode: 'number' }).notNull(),
    hash: text().notNull(),
    at: epochMs().notNull(),
    signature: text().notNull(),
    kid: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.seq] })],
);

export const events = pgTable(
  'events',
  {
    id: text().primaryKey(),
    orgId: text().notNull(),
    sourceId: text().notNull(),
    receivedAt: epochMs().notNull(),
    dedupKey: text(),
    /** The raw body exactly as received (it is what was signed): text, never jsonb. */
    body: text().notNull(),
    headers: text().notNull(),
    state: text({ enum: ['pending', 'processing', 'processed'] })
      .notNull()
      .default('pending'),
    replays: integer().notNull().default(0),
  },
  (t) => [
    index('events_org').on(t.orgId, t.id), // Only the events processing has not taken yet: a processed event leaves it (56 B an event).
    index('events_state').on(t.state, t.id).where(sql`state = 'pending'`),
  ],
);

export const ingestKeys = pgTable(
  'ingest_keys',
  {
    sourceId: text().notNull(),
    key: text().notNull(),
    orgId: text().notNull(),
    eventId: text().notNull(),
    expiresAt: epochMs().notNull(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.key] }), index('ingest_keys_org').on(t.orgId)],
);

export const rules = pgTable(
  'rules',
  {
    id: text().primaryKey(),
    orgId: text().notNull(),
    currentVersion: integer().notNull(),
    createdAt: epochMs().notNull(),
    updatedAt: epochMs().notNull(),
    deletedAt: epochMs(),
  },
  (t) => [index('rules_org').on(t.orgId, t.id)],
);

export const ruleVersions = pgTable(
  'rule_versions',
  {
    ruleId: text().notNull(),
    version: integer().notNull(),
    orgId: text().notNull(),
    body: text().notNull(),
    createdAt: epochMs().notNull(),
    createdBy: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.version] }), index('rule_versions_org').on(t.orgId)],
);

export const jobs = pgTable(
  'jobs',
  {
    id: text().primaryKey(),
    kind: text().notNull(),
    orgId: text().notNull(),
    lane: text().notNull(),
    payload: text().notNull(),
    status: text({ enum: ['pending', 'running', 'succeeded', 'failed'] }).notNull(),
    attempts: integer().notNull().default(0),
    maxAttempts: integer().notNull(),
    runAt: epochMs().notNull(),
    lockedUntil: epochMs(),
    owner: text(),
    lastError: text(),
    idempotencyKey: text(),
    createdAt: epochMs().notNull(),
    updatedAt: epochMs().notNull(),
  },
  (t) => [
    uniqueIndex('jobs_idempotency').on(t.kind, t.idempotencyKey),
    index('jobs_ready').on(t.status, t.runAt),
    // Every lane lookup asks for unfinished jobs only: a finished one leaves it (175 B a job).
    index('jobs_lane').on(t.lane, t.status, t.id).where(sql`status in ('pending', 'running')`),
    index('jobs_org').on(t.orgId, t.status),
    /** As in ../schema.ts: the claim's skip scan over orgs with pending jobs, and their oldest ready jobs. */
    index('jobs_pending').on(t.orgId, t.runAt, t.id).where(sql`status = 'pending'`),
    // The oldest unfinished job for /metrics in one seek: without it, a look at every unfinished
    // row (86 ms a scrape with 1M pending on SQLite). Finished jobs leave it.
    index('jobs_oldest').on(t.createdAt).where(sql`status in ('pending', 'running')`),
  ],
);

export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    id: text().primaryKey(),
    orgId: text().notNull(),
    jobId: text().notNull(),
    eventId: text().notNull(),
    at: epochMs().notNull(),
    operation: text().notNull(),
    status: integer(),
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

/**
 * PostgreSQL only (no SQLite twin: one process owns a SQLite file and keeps these in memory).
 * Each org's request budget, shared by every instance: a sliding minute of take times, taken from
 * with one atomic upsert (src/delivery/budget-pg-store.ts). `paused_until` only ever grows (a
 * 429's Retry-After, or when enough of the minute's takes have aged out).
 */
export const orgBudgets = pgTable('org_budgets', {
  orgId: text().primaryKey(),
  /** When each request of the last minute was taken, oldest first. */
  takenAt: bigint({ mode: 'number' }).array().notNull().default(sql`'{}'`),
  pausedUntil: epochMs().notNull().default(0),
});

/**
 * PostgreSQL only. Each org's client-credentials token, shared by every instance so N instances
 * do not fetch N tokens (src/genesys/shared-tokens.ts). Sealed like the grant's secret; the hash
 * (sha256 hex of the token) lets a 401 drop exactly the token that failed.
 */
export const orgTokens = pgTable('org_tokens', {
  orgId: text().primaryKey(),
  tokenSealed: text().notNull(),
  tokenHash: text().notNull(),
  environment: text().notNull(),
  refreshAt: epochMs().notNull(),
  useUntil: epochMs().notNull(),
});

/** As in ../schema.ts: finished jobs by status, summed over shards; kept by triggers (migrations-pg/0007). */
export const finishedJobCounts = pgTable(
  'finished_job_counts',
  {
    status: text({ enum: ['succeeded', 'failed'] }).notNull(),
    shard: integer().notNull(),
    n: bigint({ mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.status, t.shard] })],
);

/** Every table holding an org's rows, as in ../schema.ts (plus the pg-only two): uninstall purges each. */
export const ORG_TABLES = [
  { table: tenants, orgId: tenants.orgId },
  { table: auditLog, orgId: auditLog.orgId },
  { table: auditHeads, orgId: auditHeads.orgId },
  { table: auditRuleIds, orgId: auditRuleIds.orgId },
  { table: auditCheckpoints, orgId: auditCheckpoints.orgId },
  { table: sources, orgId: sources.orgId },
  { table: events, orgId: events.orgId },
  { table: ingestKeys, orgId: ingestKeys.orgId },
  { table: rules, orgId: rules.orgId },
  { table: ruleVersions, orgId: ruleVersions.orgId },
  { table: jobs, orgId: jobs.orgId },
  { table: deliveryAttempts, orgId: deliveryAttempts.orgId },
  { table: orgBudgets, orgId: orgBudgets.orgId },
  { table: orgTokens, orgId: orgTokens.orgId },
] as const;
