import { describe, expect, it } from 'vitest';
import { ConversationCache } from '../../src/delivery/conversation-cache.js';
import { resolveParticipant } from '../../src/delivery/participants.js';
import type { Conversation } from '../../src/genesys/types.js';

/** A conversation as Genesys answers it: media sessions, addresses and more around what we read. */
function conversation(id: string): Conversation {
  return {
    id,
    startTime: '2026-11-26T05:00:00.000Z',
    address: 'tel:+15551234567',
    divisions: [{ division: { id: 'div-1' }, entities: [{ id: 'queue-1' }] }],
    participants: [
      {
        id: 'p-customer',
        purpose: 'customer',
        startTime: '2026-11-26T05:00:00.000Z',
        attributes: { tier: 'gold' },
        calls: [{ id: 'call-1', state: 'connected', self: { addressNormalized: 'tel:+1555' } }],
        wrapupRequired: false,
      },
      {
        id: 'p-agent',
        purpose: 'agent',
        startTime: '2026-11-26T05:00:01.000Z',
        endTime: '2026-11-26T05:00:09.000Z',
        attributes: {},
        calls: [{ id: 'call-2', state: 'disconnected', disconnectType: 'client' }],
      },
    ],
  } as Conversation;
}

describe('ConversationCache', () => {
  it('a read that began before a PATCH to its conversation was recorded never replaces the patched copy', () => {
    const cache = new ConversationCache();
    // Two runs on two lanes of one conversation: the second starts its read, then the first's PATCH lands.
    const readFrom = cache.mark();
    cache.put('org', 'c1', conversation('c1'), 0, cache.mark());
    cache.applied('org', 'c1', 'p-customer', { tier: 'platinum' });
    cache.put('org', 'c1', conversation('c1'), 1, readFrom);
    expect(cache.get('org', 'c1', 2)?.participants[0]?.attributes).toEqual({ tier: 'platinum' });
    // A read that began afterwards is newer, and replaces it.
    const later = cache.mark();
    const reread = conversation('c1');
    reread.participants[0]!.attributes = { tier: 'silver' };
    cache.put('org', 'c1', reread, 3, later);
    expect(cache.get('org', 'c1', 4)?.participants[0]?.attributes).toEqual({ tier: 'silver' });
  });

  it('keeps only what a delivery reads, and resolves participants as the full answer does', () => {
    const cache = new ConversationCache();
    const full = conversation('c1');
    cache.put('org', 'c1', full, 0);
    const kept = cache.get('org', 'c1', 1)!;
    expect(kept).toEqual({
      id: 'c1',
      endTime: undefined,
      participants: [
        {
          id: 'p-customer',
          purpose: 'customer',
          startTime: '2026-11-26T05:00:00.000Z',
          endTime: undefined,
          attributes: { tier: 'gold' },
        },
        {
          id: 'p-agent',
          purpose: 'agent',
          startTime: '2026-11-26T05:00:01.000Z',
          endTime: '2026-11-26T05:00:09.000Z',
          attributes: {},
        },
      ],
    });
    const outcome = (c: Conversation, selector: Parameters<typeof resolveParticipant>[1]) => {
      const r = resolveParticipant(c, selector);
      return r.kind === 'found' ? { kind: r.kind, id: r.participant.id } : r;
    };
    for (const selector of [
      { purpose: 'customer' },
      { purpose: 'agent' },
      { id: 'p-agent' },
      { id: 'nobody' },
    ])
      expect(outcome(kept, selector)).toEqual(outcome(full, selector));
  });

  it('lets expired conversations go as new ones come, not once thousands have piled up', () => {
    const cache = new ConversationCache(5_000);
    for (let i = 0; i < 100; i++) cache.put('org', `c${i}`, conversation(`c${i}`), i * 100);
    // At 9.95 s the first 50 (put at 4.9 s or before) have expired; the next put lets them go.
    cache.put('org', 'late', conversation('late'), 9_950);
    expect(cache.size).toBe(51);
    expect(cache.get('org', 'c49', 9_950)).toBeUndefined();
    expect(cache.get('org', 'c50', 9_950)?.id).toBe('c50');
  });

  it('a conversation put again counts from its new time, and a full cache drops its oldest', () => {
    const cache = new ConversationCache(5_000, 3);
    cache.put('org', 'a', conversation('a'), 0);
    cache.put('org', 'b', conversation('b'), 1_000);
    cache.put('org', 'a', conversation('a'), 2_000);
    cache.put('org', 'c', conversation('c'), 3_000);
    cache.put('org', 'd', conversation('d'), 4_000);
    expect(cache.get('org', 'b', 4_000)).toBeUndefined();
    expect(cache.get('org', 'a', 6_000)?.id).toBe('a');
    expect(cache.size).toBe(3);
  });

  it('keeps a cached participant’s attributes up to date with what Genesys accepted', () => {
    const cache = new ConversationCache();
    cache.put('org', 'c1', conversation('c1'), 0);
    cache.applied('org', 'c1', 'p-customer', { tier: 'platinum', case: '42' });
    const p = cache.get('org', 'c1', 1)!.participants.find((x) => x.id === 'p-customer');
    expect(p?.attributes).toEqual({ tier: 'platinum', case: '42' });
  });
});
