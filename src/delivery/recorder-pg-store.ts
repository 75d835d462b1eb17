import type { PgDatabase } from '../db/pg/client.js';
import { insertRows } from '../db/pg/insert-rows.js';
import { deliveryAttempts } from '../db/pg/schema.js';
import { groupCommit } from '../lib/group-commit.js';
import { newId } from '../lib/ids.js';
import type { AttemptRow, DeliveryRecorder } from './recorder-store.js';

/** The PostgreSQL twin of `sqliteDeliveryRecorder`: the calls of one turn in one insert. */
export function pgDeliveryRecorder(database: PgDatabase): DeliveryRecorder {
  const write = groupCommit(async (batch: AttemptRow[]) => {
    const rows = batch.flatMap((a) =>
      a.eventIds.map((eventId) => ({
        id: newId('att', a.at),
        orgId: a.orgId,
        jobId: a.jobId,
        eventId,
        at: a.at,
        operation: a.operation,
        status: a.status ?? null,
        outcome: a.outcome,
        code: a.code ?? null,
        correlationId: a.correlationId ?? null,
        durationMs: Math.round(a.durationMs),
      })),
    );
    await insertRows(database.db, deliveryAttempts, rows);
    return batch.map(() => undefined);
  });
  return { attempt: write };
}
