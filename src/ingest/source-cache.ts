import type { Sealer } from '../crypto/secrets.js';
import type { Clock } from '../lib/clock.js';
import type { Source, SourceAuth, SourceStore } from '../sources/store.js';

export interface IngestSource {
  id: string;
  orgId: string;
  auth: SourceAuth;
  secret: string;
  previous: { secret: string; validUntil: number } | undefined;
}

/** How long an opened source is trusted before it is read again (other instances' rotations). */
const TTL_MS = 30_000;

/**
 * Sources with their secrets opened, so ingest does not decrypt a JWE per request. Writes in this
 * process invalidate at once; the TTL bounds how stale another instance's view can be. Whether the
 * source still exists is checked again inside the ingest transaction, so a deleted source never
 * gets an event.
 */
export class SourceCache {
  private readonly entries = new Map<string, { source: IngestSource; loadedAt: number }>();

  constructor(private readonly deps: { sources: SourceStore; sealer: Sealer; clock: Clock }) {}

  async get(id: string): Promise<IngestSource | undefined> {
    const now = this.deps.clock.now();
    const hit = this.entries.get(id);
    if (hit && now - hit.loadedAt < TTL_MS) return hit.source;
    const row = await this.deps.sources.getForIngest(id);
    if (!row) {
      this.entries.delete(id);
      return undefined;
    }
    const source = await this.open(row);
    this.entries.set(id, { source, loadedAt: now });
    return source;
  }

  /** The secrets that verify a request at `now`: the current one, and the previous one until it lapses. */
  static validSecrets(s: IngestSource, now: number): string[] {
    return s.previous && now < s.previous.validUntil ? [s.secret, s.previous.secret] : [s.secret];
  }

  /**
   * The source read again, unless it was read in the last `minAgeMs`: when a request fails to
   * verify, another instance may have just rotated its secret. Bounded so that bad requests
   * cannot turn into a database read each.
   */
  async reload(id: string, minAgeMs: number): Promise<IngestSource | undefined> {
    const hit = this.entries.get(id);
    if (hit && this.deps.clock.now() - hit.loadedAt < minAgeMs) return undefined;
    this.entries.delete(id);
    return this.get(id);
  }

  invalidate(id: string): void {
    this.entries.delete(id);
  }

  forgetOrg(orgId: string): void {
    for (const [id, e] of this.entries) if (e.source.orgId === orgId) this.entries.delete(id);
  }

  private async open(row: Source): Promise<IngestSource> {
    const { sealer } = this.deps;
    return {
      id: row.id,
      orgId: row.orgId,
      auth: row.auth,
      secret: await sealer.open(row.orgId, row.secretSealed),
      previous:
        row.previousSecretSealed && row.previousValidUntil
          ? {
              secret: await sealer.open(row.orgId, row.previousSecretSealed),
              validUntil: row.previousValidUntil,
            }
          : undefined,
    };
  }
}
