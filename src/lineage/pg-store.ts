import { sql } from 'drizzle-orm';
import type { PgDb } from '../db/pg/client.js';
import type { LineageStore, PatchRow } from './store.js';

/** The PostgreSQL twin of `sqliteLineageStore`: the (org, conversation) index finds the rows. */
export function pgLineageStore(db: PgDb): LineageStore {
  return {
    async patches(orgId, conversationId, participantId, limit) {
      const rows = await db.execute(sql`
        select id, at, kind, event_id as "eventId", source_id as "sourceId",
          participant_id as "participantId", outcome, actor, detail
        from audit_log
        where org_id = ${orgId} and conversation_id = ${conversationId}
          and kind in ('patch.applied', 'patch.skipped')
          and (${participantId ?? null}::text is null or participant_id = ${participantId ?? null})
        order by id desc limit ${limit}`);
      // A raw query hands bigint columns over as text; the row is as SQLite's otherwise.
      return rows.map((r) => ({ ...r, at: Number(r.at) }) as PatchRow);
    },
  };
}
