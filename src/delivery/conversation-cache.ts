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
  private readonly entries = new Map<string, { conversation: Conversation; at: number }>();

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

  put(orgId: string, conversationId: string, conversation: Conversation, now: number): void {
    this.expire(now);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const k = key(orgId, conversationId);
    this.entries.delete(k);
    this.entries.set(k, { conversation: slim(conversation), at: now });
  }

  /** What Genesys accepted, so the copy stays what the participant now has. */
  applied(
    orgId: string,
    conversationId: string,
    participantId: string,
    changes: Record<string, string>,
  ): void {
    const p = this.entries
      .get(key(orgId, conversationId))
      ?.conversation.participants.find((x) => x.id === participantId);
    if (p) p.attributes = { ...p.attributes, ...changes };
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
