import type { Conversation } from '../genesys/types.js';

/**
 * Conversations just read, reused for a few seconds by later deliveries to the same conversation
 * and kept up to date with what we PATCHed, so a burst of events costs one read, not one each.
 * Short on purpose: a participant that ends meanwhile is caught by Genesys' answer to the PATCH
 * (a 409 or 404 drops the copy and re-reads).
 */
export class ConversationCache {
  private readonly entries = new Map<string, { conversation: Conversation; at: number }>();

  constructor(private readonly ttlMs = 5_000) {}

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
    if (this.entries.size >= 10_000) this.sweep(now);
    this.entries.set(key(orgId, conversationId), { conversation, at: now });
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

  private sweep(now: number): void {
    for (const [k, e] of this.entries) if (now - e.at >= this.ttlMs) this.entries.delete(k);
    if (this.entries.size >= 10_000) this.entries.clear();
  }
}

const key = (orgId: string, conversationId: string) => `${orgId}\u0000${conversationId}`;
