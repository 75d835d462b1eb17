import type BetterSqlite3 from 'better-sqlite3';

/** Where an event stands, as an admin reads it in the events list. */
export type EventOutcome = 'pending' | 'unmatched' | 'applied' | 'skipped' | 'retrying' | 'failed' | 'mixed';

export interface EventSummary {
  id: string;
  sourceId: string;
  receivedAt: string;
  state: string;
  replays: number;
  outcome: EventOutcome;
  conversationIds: string[];
}

export interface EventListFilter {
  sourceId?: string | undefined;
  conversationId?: string | undefined;
  /** Only events older than this id (the previous page's last). */
  before?: string | undefined;
  limit: number;
}

export interface AuditRow {
  event_id: string;
  kind: string;
  conversation_id: string | null;
  detail: string | null;
}

/** An event's audit rows, oldest first: what its latest processing decided and what came of it. */
export function outcomeOf(state: string, rows: readonly AuditRow[]): EventOutcome {
  if (state === 'pending') return 'pending';
  // Only the rows since the latest processing count (a replay starts again).
  let start = -1;
  for (let i = rows.length - 1; i >= 0 && start < 0; i--) {
    const kind = rows[i]!.kind;
    if (kind === 'event.matched' || kind === 'event.unmatched') start = i;
  }
  if (start < 0) return 'pending';
  const processing = rows[start]!;
  if (processing.kind === 'event.unmatched') return 'unmatched';
  const deliveries = Number(
    (JSON.parse(processing.detail ?? '{}') as { deliveries?: number }).deliveries ?? 1,
  );
  const finals = new Set<string>();
  let ended = 0;
  let retrying = false;
  for (const r of rows.slice(start + 1)) {
    if (r.kind === 'patch.retrying') retrying = true;
    else if (r.kind === 'patch.applied' || r.kind === 'patch.skipped' || r.kind === 'patch.failed') {
      finals.add(r.kind.slice('patch.'.length));
      ended++;
    }
  }
  if (ended < deliveries) return retrying ? 'retrying' : 'pending';
  return finals.size === 1 ? ([...finals][0] as EventOutcome) : 'mixed';
}

/** The org's latest stored events (of one source, or all), newest first: what a backtest reads. */
export function sqliteRecentEvents(sqlite: BetterSqlite3.Database) {
  let recent: BetterSqlite3.Statement | undefined;
  return (orgId: string, sourceId: string | undefined, limit: number) => {
    recent ??= sqlite.prepare(
      `select id, source_id as sourceId, received_at as receivedAt, body from events
       where org_id = @orgId and (@sourceId is null or source_id = @sourceId) order by id desc limit @limit`,
    );
    return recent.all({ orgId, sourceId: sourceId ?? null, limit }) as Array<{
      id: string;
      sourceId: string;
      receivedAt: number;
      body: string;
    }>;
  };
}

/**
 * GET /v1/events: an org's events, newest first, each with its outcome. By conversation, the
 * event ids come from the audit rows that name it (events do not store their targets).
 */
export function sqliteEventList(sqlite: BetterSqlite3.Database) {
  let prepared: ReturnType<typeof prepare> | undefined;
  return (orgId: string, f: EventListFilter): { items: EventSummary[]; more: boolean } => {
    prepared ??= prepare(sqlite);
    const params = { orgId, sourceId: f.sourceId ?? null, before: f.before ?? null, limit: f.limit + 1 };
    const events = (
      f.conversationId === undefined
        ? prepared.page.all(params)
        : prepared.byConversation.all({ ...params, conversationId: f.conversationId })
    ) as ListedEvent[];
    const shown = events.slice(0, f.limit);
    const audit = prepared.audit.all(orgId, JSON.stringify(shown.map((e) => e.id))) as AuditRow[];
    return { items: summaries(shown, audit), more: events.length > f.limit };
  };
}

export interface ListedEvent {
  id: string;
  source_id: string;
  received_at: number;
  state: string;
  replays: number;
}

/** The audit kinds an event's outcome is read from (both backends' list queries select these). */
export const OUTCOME_KINDS = [
  'event.matched',
  'event.unmatched',
  'patch.applied',
  'patch.skipped',
  'patch.retrying',
  'patch.failed',
] as const;

/** The list's items from a page of events and their audit rows (oldest first). */
export function summaries(events: readonly ListedEvent[], audit: readonly AuditRow[]): EventSummary[] {
  const byEvent = new Map<string, AuditRow[]>();
  for (const r of audit) byEvent.set(r.event_id, [...(byEvent.get(r.event_id) ?? []), r]);
  return events.map((e) => {
    const rows = byEvent.get(e.id) ?? [];
    return {
      id: e.id,
      sourceId: e.source_id,
      receivedAt: new Date(e.received_at).toISOString(),
      state: e.state,
      replays: e.replays,
      outcome: outcomeOf(e.state, rows),
      conversationIds: [...new Set(rows.flatMap((r) => (r.conversation_id ? [r.conversation_id] : [])))],
    };
  });
}

function prepare(sqlite: BetterSqlite3.Database) {
  const columns = 'e.id, e.source_id, e.received_at, e.state, e.replays';
  const filters = `(@sourceId is null or e.source_id = @sourceId) and (@before is null or e.id < @before)`;
  return {
    page: sqlite.prepare(
      `select ${columns} from events e where e.org_id = @orgId and ${filters} order by e.id desc limit @limit`,
    ),
    byConversation: sqlite.prepare(
      `select ${columns} from events e
       where e.org_id = @orgId and ${filters} and e.id in (
         select event_id from audit_log where org_id = @orgId and conversation_id = @conversationId and event_id is not null)
       order by e.id desc limit @limit`,
    ),
    audit: sqlite.prepare(
      `select event_id, kind, conversation_id, detail from audit_log
       where org_id = ? and event_id in (select value from json_each(?))
         and kind in (${OUTCOME_KINDS.map((k) => `'${k}'`).join(', ')})
       order by id`,
    ),
  };
}
