import { describe, expect, it } from 'vitest';
import { changedAttributes, resolveParticipant } from '../../src/delivery/participants.js';
import { RETRY_SCHEDULE_MS, retryDelay, visibilityDelay } from '../../src/delivery/retry-policy.js';
import type { Conversation } from '../../src/genesys/types.js';

describe('retry policy', () => {
  it('follows the schedule with ±20% jitter, then gives up', () => {
    expect(retryDelay(1, () => 0.5)).toBe(1_000);
    expect(retryDelay(2, () => 0)).toBe(4_000);
    expect(retryDelay(2, () => 1)).toBe(6_000);
    expect(retryDelay(RETRY_SCHEDULE_MS.length, () => 0.5)).toBe(10_800_000);
    expect(retryDelay(RETRY_SCHEDULE_MS.length + 1)).toBeUndefined();
    expect([0, 1, 2, 3, 10].map(visibilityDelay)).toEqual([1_000, 2_000, 4_000, 8_000, 15_000]);
  });
});

const p = (
  id: string,
  purpose: string,
  startTime: string,
  endTime?: string,
  attributes: Record<string, string> = {},
) => ({
  id,
  purpose,
  startTime,
  attributes,
  ...(endTime ? { endTime } : {}),
});
const conv = (participants: ReturnType<typeof p>[], endTime?: string) =>
  ({ id: 'c', participants, ...(endTime ? { endTime } : {}) }) as unknown as Conversation;

describe('resolveParticipant', () => {
  const t = (m: number) => `2026-11-25T12:0${m}:00.000Z`;

  it('picks the newest active participant of the purpose', () => {
    const c = conv([
      p('old', 'customer', t(1), t(2)),
      p('a', 'customer', t(3)),
      p('b', 'customer', t(4)),
      p('ag', 'agent', t(5)),
    ]);
    expect(resolveParticipant(c, { purpose: 'customer' })).toMatchObject({
      kind: 'found',
      participant: { id: 'b' },
    });
    expect(resolveParticipant(c, { purpose: 'agent' })).toMatchObject({
      kind: 'found',
      participant: { id: 'ag' },
    });
  });

  it('with a list of purposes, the first purpose that has an active participant wins', () => {
    const both = ['customer', 'external'];
    // An agent-placed call: the remote party is external, not customer.
    const outbound = conv([p('ag', 'agent', t(1)), p('ext', 'external', t(1))]);
    expect(resolveParticipant(outbound, { purpose: both })).toMatchObject({
      kind: 'found',
      participant: { id: 'ext' },
    });
    const inbound = conv([p('ext', 'external', t(1)), p('cu', 'customer', t(2))]);
    expect(resolveParticipant(inbound, { purpose: both })).toMatchObject({
      kind: 'found',
      participant: { id: 'cu' },
    });
    const hungUp = conv([p('cu', 'customer', t(1), t(2)), p('ext', 'external', t(1))]);
    expect(resolveParticipant(hungUp, { purpose: both })).toMatchObject({
      kind: 'found',
      participant: { id: 'ext' },
    });
    const allEnded = conv([p('cu', 'customer', t(1), t(2)), p('ext', 'external', t(1), t(3))]);
    expect(resolveParticipant(allEnded, { purpose: both })).toEqual({
      kind: 'participant_terminated',
      participantId: 'cu',
    });
    expect(resolveParticipant(conv([p('ag', 'agent', t(1))]), { purpose: both })).toEqual({
      kind: 'participant_not_found',
    });
  });

  it('classifies ended, terminated and not-yet-there', () => {
    expect(resolveParticipant(conv([p('a', 'customer', t(1))], t(9)), { purpose: 'customer' })).toEqual({
      kind: 'conversation_ended',
    });
    expect(resolveParticipant(conv([p('a', 'customer', t(1), t(2))]), { purpose: 'customer' })).toEqual({
      kind: 'participant_terminated',
      participantId: 'a',
    });
    expect(resolveParticipant(conv([p('a', 'customer', t(1))]), { purpose: 'agent' })).toEqual({
      kind: 'participant_not_found',
    });
    expect(resolveParticipant(conv([p('a', 'customer', t(1), t(2))]), { id: 'a' })).toMatchObject({
      kind: 'participant_terminated',
    });
    expect(resolveParticipant(conv([p('a', 'customer', t(1))]), { id: 'zz' })).toEqual({
      kind: 'participant_not_found',
    });
    expect(resolveParticipant(conv([p('a', 'agent', t(1))]), { id: 'a' })).toMatchObject({ kind: 'found' });
  });
});

describe('changedAttributes', () => {
  it('keeps only keys whose value differs', () => {
    expect(changedAttributes({ a: '1', b: '2' }, { a: '1', b: '3', c: '4' })).toEqual({ b: '3', c: '4' });
    expect(changedAttributes({ a: '1' }, { a: '1' })).toEqual({});
    expect(changedAttributes(undefined, { a: '' })).toEqual({ a: '' });
  });
});
