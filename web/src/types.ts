// Shapes of the public API the page uses (see /openapi.json).

export interface EnvironmentInfo {
  environment: string;
  name: string | null;
  loginUrl: string;
  apiUrl: string;
  appsOrigin: string;
}

export interface UiConfig {
  oauthClientId: string | null;
  missing: Array<{ variable: string; why: string }>;
  redirectUri: string;
  environments: EnvironmentInfo[];
  features: { auditExport: boolean };
}

export type Role = 'admin' | 'viewer';

export interface Session {
  token: string;
  expiresAt: string;
  orgId: string;
  role: Role;
  user: { id: string; name: string };
}

export interface Tenant {
  orgId: string;
  orgName: string;
  environment: string;
  installedAt: string;
  role: Role;
  settings: {
    requestsPerMinute: number;
    auditRetentionDays: number;
    endedParticipants?: string;
    maxAttributeValueLength?: number;
  };
  grant: {
    clientId: string;
    managed: boolean;
    status: string;
    lastTokenAt: string | null;
    lastError: string | null;
    /** Divisions the grant's roles miss (null until first read). */
    divisions?: {
      checkedAt: string;
      total: number;
      missing: { id: string; name: string | null }[];
      advice: string | null;
    } | null;
  };
  delivery: {
    pending: number;
    oldestPendingAgeMs: number | null;
    lastAppliedAt: string | null;
    lastRateLimitedAt: string | null;
  };
  /** Present since licensing; absent from older servers. */
  license?: { status: 'licensed' | 'unlicensed'; checkedAt: string | null };
}

export interface Source {
  id: string;
  name: string;
  auth: 'standard-webhooks' | 'bearer';
  ingestUrl: string;
  createdAt: string;
  rotatedAt: string | null;
  previousSecretValidUntil: string | null;
  secret?: string;
}

export type Condition = { all: Condition[] } | { any: Condition[] } | { not: Condition } | Leaf;
export interface Leaf {
  path: string;
  op: string;
  value?: unknown;
}

export interface RuleBody {
  name: string;
  enabled: boolean;
  priority: number;
  sourceId: string | null;
  when: Condition;
  target: { conversationId: string; participant: { purpose: string | string[] } | { id: string } };
  set: Record<string, string>;
}

export interface StoredRule extends RuleBody {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface Dropped {
  attribute: string;
  reason: string;
  detail: string;
}

export interface DryRun {
  matches: Array<{
    ruleId: string;
    version: number;
    name: string;
    attributes: Record<string, string>;
    dropped: Dropped[];
  }>;
  patches: Array<{
    target: { conversationId: string; participant: unknown };
    body: { attributes: Record<string, string> };
    from: Record<string, { ruleId: string; version: number }>;
    rules: Array<{ ruleId: string; version: number }>;
  }>;
  misses: Array<{
    ruleId: string;
    version: number;
    name: string;
    reason: string;
    detail?: string;
    miss?: unknown;
  }>;
}

export interface Backtest {
  backtest: {
    considered: number;
    matched: number;
    missed: number;
    attributes: Array<{ name: string; events: number; sampleValues: string[] }>;
    samples: {
      matched: Array<{ eventId: string; receivedAt: string; attributes: Record<string, string> }>;
      missed: Array<{ eventId: string; receivedAt: string; reasons: string[] }>;
    };
  };
}

export type Outcome = 'pending' | 'unmatched' | 'applied' | 'skipped' | 'retrying' | 'failed' | 'mixed';

export interface EventSummary {
  id: string;
  sourceId: string;
  receivedAt: string;
  state: string;
  replays: number;
  outcome: Outcome;
  conversationIds: string[];
}

export interface AuditItem {
  id: string;
  at: string;
  kind: string;
  actor: { type: string; id?: string; name?: string };
  sourceId: string | null;
  eventId: string | null;
  ruleIds: string[];
  conversationId: string | null;
  participantId: string | null;
  outcome: string | null;
  detail: Record<string, unknown>;
}

export interface EventDetail {
  event: { id: string; sourceId: string; receivedAt: string; state: string; replays: number; body: unknown };
  deliveries: Array<{
    jobId: string;
    status: string;
    attempts: number;
    lastError: string | null;
    nextAttemptAt: string | null;
    target: unknown;
    attributes: Record<string, string>;
  }>;
  attempts: Array<{
    at: string;
    operation: string;
    status: number | null;
    outcome: string;
    code: string | null;
    correlationId: string | null;
    durationMs: number;
  }>;
  history: AuditItem[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
