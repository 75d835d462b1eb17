import { describe, expect, it } from 'vitest';
import { outcomeOf } from '../../src/events/list-store.js';

const row = (kind: string, detail?: unknown) => ({
  event_id: 'evt_x',
  kind,
  conversation_id: null,
  detail: detail === undefined ? null : JSON.stringify(detail),
});
const matched = (deliveries: number) => row('event.matched', { deliveries });

describe('an event’s outcome in the events list', () => {
  it('pending until processed, and while its deliveries are queued', () => {
    expect(outcomeOf('pending', [])).toBe('pending');
    expect(outcomeOf('processed', [row('event.received'), matched(1)])).toBe('pending');
  });

  it('unmatched, applied, skipped or failed when every delivery ended alike', () => {
    expect(outcomeOf('processed', [row('event.unmatched')])).toBe('unmatched');
    expect(outcomeOf('processed', [matched(2), row('patch.applied'), row('patch.applied')])).toBe('applied');
    expect(outcomeOf('processed', [matched(1), row('patch.skipped')])).toBe('skipped');
    expect(outcomeOf('processed', [matched(1), row('patch.retrying'), row('patch.failed')])).toBe('failed');
  });

  it('retrying while a delivery waits for another attempt; mixed when deliveries ended differently', () => {
    expect(outcomeOf('processed', [matched(2), row('patch.applied'), row('patch.retrying')])).toBe(
      'retrying',
    );
    expect(outcomeOf('processed', [matched(2), row('patch.applied'), row('patch.failed')])).toBe('mixed');
  });

  it('after a replay only the latest processing counts', () => {
    const rows = [matched(1), row('patch.failed'), row('event.replayed'), matched(1), row('patch.applied')];
    expect(outcomeOf('processed', rows)).toBe('applied');
    expect(outcomeOf('pending', rows.slice(0, 3))).toBe('pending');
  });
});
