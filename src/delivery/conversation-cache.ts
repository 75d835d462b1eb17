import type { Conversation } from '../genesys/types.js';

/**
 * Conversations just read, reused for a few seconds by later deliveries to the same conversation
 * and kept up to date with what we PATCHed, so a burst of events costs one read, not one each.
 * Short on purpose: a participant that ends meanwhile is caught by Genesys' answer to the PATCH
 * (a 409 or 404 drops the copy and re-reads).
 *
 * Memory: only what a delivery reads is kept (see `slim`), and entries leave once expired, not
 * when 10,000 have piled up: at 750 deliveries/s to distinct conversations the map held 10,000
 * whole conversations where 3,750 were still usable.
 */
export class ConversationCache {
  /** In the order they were put (a put moves its key to the end), so expired ones lead. */
  private readonly entries = new Map<string, { conversation: Conversation; at: number; changed: number }>();
  /** Counts puts and applied PATCHes: `changed` says when an entry last took one. */
  private changes = 0;

  constructor(
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 10_000,
  ) {}

  get(orgId: string, conversationId: string, now: number): Conversation | undefined {
    const e = this.entries.get(key(orgId, conversationId));
    if (!e) return undefined;
    if (now - e.at >= this.ttlMs) {
      this.entries.delete(key(orgId, conversationId));
      return undefined;
    }
    return e.conversation;
  }

  /** Taken before a read: `put` of that read then never undoes what was applied meanwhile. */
  mark(): number {
    return this.changes;
  }

  /**
   * Keeps a read. A copy that changed since `readFrom` (another run to the same conversation
   * PATCHed it, or read it later) is newer than this read, and stays: overwritten, it would show
   * a value the participant no longer has, and a later event setting that value back would be
   * skipped as `no_change`.
   */
  put(
    orgId: string,
    conversationId: string,
    conversation: Conversation,
    now: number,
    readFrom?: number,
  ): void {
    const k = key(orgId, conversationId);
    const held = this.entries.get(k);
    if (held && readFrom !== undefined && held.changed > readFrom) return;
    this.expire(now);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.delete(k);
    this.entries.set(k, { conversation: slim(conversation), at: now, changed: ++this.changes });
  }

  /** What Genesys accepted, so the copy stays what the participant now has. */
  applied(
    orgId: string,
    conversationId: string,
    participantId: string,
    changes: Record<string, string>,
  ): void {
    const e = this.entries.get(key(orgId, conversationId));
    const p = e?.conversation.participants.find((x) => x.id === participantId);
    if (!e || !p) return;
    p.attributes = { ...p.attributes, ...changes };
    e.changed = ++this.changes;
  }

  drop(orgId: string, conversationId: string): void {
    this.entries.delete(key(orgId, conversationId));
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops the expired entries, oldest first: each put pays for the ones it finds. */
  private expire(now: number): void {
    for (const [k, e] of this.entries) {
      if (now - e.at < this.ttlMs) return;
      this.entries.delete(k);
    }
  }
}

/**
 * What delivery reads of a conversation (participants.ts, deliver.ts): its end, and each
 * participant's id, purpose, times and attributes. Genesys' answer carries much more (media
 * sessions, addresses, wrap-ups: several KB a conversation) that a cached copy need not hold.
 */
export function slim(c: Conversation): Conversation {
  return {
    id: c.id,
    endTime: c.endTime,
    participants: c.participants.map((p) => ({
      id: p.id,
      purpose: p.purpose,
      startTime: p.startTime,
      endTime: p.endTime,
      attributes: p.attributes,
    })),
  };
}

const key = (orgId: string, conversationId: string) => `${orgId}\u0000${conversationId}`;
