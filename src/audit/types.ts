/** The closed set of audit kinds; a new emit site needs a new member here. */
export const AUDIT_KINDS = [
  'event.received',
  'event.matched',
  'event.unmatched',
  'event.replayed',
  'patch.applied',
  'patch.skipped',
  'patch.retrying',
  'patch.failed',
  'rule.created',
  'rule.updated',
  'rule.deleted',
  'source.created',
  'source.rotated',
  'source.deleted',
  'grant.updated',
  'tenant.installed',
  'tenant.updated',
  'tenant.uninstalled',
  'tenant.unlicensed',
  'tenant.relicensed',
  'audit.pruned',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/** Who did it: an admin (by Genesys user), a source (ingest), or the server itself. */
export type Actor =
  | { type: 'user'; id: string; name: string }
  | { type: 'source'; id: string }
  | { type: 'system'; job?: string };

/** What a caller records; secrets must already be stripped from `detail`. */
export interface AuditEntry {
  orgId: string;
  at: number;
  kind: AuditKind;
  actor: Actor;
  sourceId?: string | undefined;
  eventId?: string | undefined;
  ruleIds?: string[] | undefined;
  conversationId?: string | undefined;
  participantId?: string | undefined;
  outcome?: string | undefined;
  detail?: Record<string, unknown> | undefined;
}

/** The contract's item shape. */
export interface AuditItem {
  id: string;
  at: string;
  kind: string;
  actor: Actor;
  sourceId: string | null;
  eventId: string | null;
  ruleIds: string[];
  conversationId: string | null;
  participantId: string | null;
  outcome: string | null;
  detail: Record<string, unknown>;
  /** The row's place in its org's hash chain, and its hash (null: older than the chain). */
  seq: number | null;
  hash: string | null;
}

export interface AuditFilter {
  kinds?: string[] | undefined;
  outcome?: string | undefined;
  conversationId?: string | undefined;
  ruleId?: string | undefined;
  sourceId?: string | undefined;
  eventId?: string | undefined;
  /** Inclusive, ms. */
  from?: number | undefined;
  /** Exclusive, ms. */
  to?: number | undefined;
  limit: number;
  /** Only rows older than this id (keyset). */
  before?: string | undefined;
}
