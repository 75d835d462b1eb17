import { and, asc, eq } from 'drizzle-orm';
import { appendAudit } from '../audit/store.js';
import type { AuditEntry } from '../audit/types.js';
import type { Db } from '../db/client.js';
import { ingestKeys, sources } from '../db/schema.js';

export type SourceAuth = 'standard-webhooks' | 'bearer';
export type Source = typeof sources.$inferSelect;

/** Sources of an org; every method but `getForIngest` is scoped by org id. */
export interface SourceStore {
  create(source: Source, audit: AuditEntry): Promise<void>;
  list(orgId: string): Promise<Source[]>;
  get(orgId: string, id: string): Promise<Source | undefined>;
  /** Ingest knows only the id from the URL; the row says which org it belongs to. */
  getForIngest(id: string): Promise<Source | undefined>;
  rotate(
    orgId: string,
    id: string,
    secrets: Pick<Source, 'secretSealed' | 'previousSecretSealed' | 'previousValidUntil' | 'rotatedAt'>,
    audit: AuditEntry,
  ): Promise<void>;
  /** Removes the source and its dedup keys; its events stay (they were accepted). */
  delete(orgId: string, id: string, audit: AuditEntry): Promise<void>;
}

export function sqliteSourceStore(db: Db): SourceStore {
  return {
    async create(source, audit) {
      db.transaction((tx) => {
        tx.insert(sources).values(source).run();
        appendAudit(tx, audit);
      });
    },
    async list(orgId) {
      return db.select().from(sources).where(eq(sources.orgId, orgId)).orderBy(asc(sources.id)).all();
    },
    async get(orgId, id) {
      return db
        .select()
        .from(sources)
        .where(and(eq(sources.orgId, orgId), eq(sources.id, id)))
        .get();
    },
    async getForIngest(id) {
      return db.select().from(sources).where(eq(sources.id, id)).get();
    },
    async rotate(orgId, id, secrets, audit) {
      db.transaction((tx) => {
        tx.update(sources)
          .set(secrets)
          .where(and(eq(sources.orgId, orgId), eq(sources.id, id)))
          .run();
        appendAudit(tx, audit);
      });
    },
    async delete(orgId, id, audit) {
      db.transaction((tx) => {
        tx.delete(sources)
          .where(and(eq(sources.orgId, orgId), eq(sources.id, id)))
          .run();
        tx.delete(ingestKeys)
          .where(and(eq(ingestKeys.orgId, orgId), eq(ingestKeys.sourceId, id)))
          .run();
        appendAudit(tx, audit);
      });
    },
  };
}
