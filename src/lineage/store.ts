import type BetterSqlite3 from 'better-sqlite3';

/** One patch.* audit row of a conversation, as lineage reads it. */
export interface PatchRow {
  id: string;
  at: number;
  kind: 'patch.applied' | 'patch.skipped';
  eventId: string | null;
  sourceId: string | null;
  participantId: string | null;
  outcome: string | null;
  actor: string;
  detail: string | null;
}

export interface LineageStore {
  /** The conversation's delivery outcomes, newest first (at most `limit`). */
  patches(
    orgId: string,
    conversationId: string,
    participantId: string | undefined,
    limit: number,
  ): Promise<PatchRow[]>;
}

/** Reads the audit rows delivery wrote: the (org, conversation) index finds them. */
export function sqliteLineageStore(sqlite: BetterSqlite3.Database): LineageStore {
  let query: BetterSqlite3.Statement | undefined;
  return {
    async patches(orgId, conversationId, participantId, limit) {
      query ??= sqlite.prepare(
        `select id, at, kind, event_id as eventId, source_id as sourceId, participant_id as participantId,
           outcome, actor, detail from audit_log
         where org_id = @orgId and conversation_id = @conversationId and kind in ('patch.applied', 'patch.skipped')
           and (@participantId is null or participant_id = @participantId)
         order by id desc limit @limit`,
      );
      return query.all({ orgId, conversationId, participantId: participantId ?? null, limit }) as PatchRow[];
    },
  };
}
