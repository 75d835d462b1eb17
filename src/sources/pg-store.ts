import { and, asc, eq } from 'drizzle-orm';
import { appendAuditPg } from '../audit/pg-store.js';
import type { PgDb } from '../db/pg/client.js';
import { ingestKeys, sources } from '../db/pg/schema.js';
import type { SourceStore } from './store.js';

/** The PostgreSQL twin of `sqliteSourceStore`. */
export function pgSourceStore(db: PgDb): SourceStore {
  return {
    async create(source, audit) {
      await db.transaction(async (tx) => {
        await tx.insert(sources).values(source);
        await appendAuditPg(tx, audit);
      });
    },
    async list(orgId) {
      return db.select().from(sources).where(eq(sources.orgId, orgId)).orderBy(asc(sources.id));
    },
    async get(orgId, id) {
      const [row] = await db
        .select()
        .from(sources)
        .where(and(eq(sources.orgId, orgId), eq(sources.id, id)));
      return row;
    },
    async getForIngest(id) {
      const [row] = await db.select().from(sources).where(eq(sources.id, id));
      return row;
    },
    async rotate(orgId, id, secrets, audit) {
      await db.transaction(async (tx) => {
        await tx
          .update(sources)
          .set(secrets)
          .where(and(eq(sources.orgId, orgId), eq(sources.id, id)));
        await appendAuditPg(tx, audit);
      });
    },
    async delete(orgId, id, audit) {
      await db.transaction(async (tx) => {
        await tx.delete(sources).where(and(eq(sources.orgId, orgId), eq(sources.id, id)));
        await tx.delete(ingestKeys).where(and(eq(ingestKeys.orgId, orgId), eq(ingestKeys.sourceId, id)));
        await appendAuditPg(tx, audit);
      });
    },
  };
}
