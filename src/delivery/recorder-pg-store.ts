import type { PgDatabase } from '../db/pg/client.js';
import { deliveryAttempts } from '../db/pg/schema.js';
import { newId } from '../lib/ids.js';
import type { DeliveryRecorder } from './recorder-store.js';

/** The PostgreSQL twin of `sqliteDeliveryRecorder`: a folded PATCH's rows in one insert. */
export function pgDeliveryRecorder(database: PgDatabase): DeliveryRecorder {
  return {
    async attempt(a) {
      if (a.eventIds.length === 0) return;
      await database.db.insert(deliveryAttempts).values(
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
    },
  };
}
