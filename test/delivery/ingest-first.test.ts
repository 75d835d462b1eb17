import { describe, expect, it } from 'vitest';
import { IngestFirst } from '../../src/delivery/ingest-first.js';

/** A governor over a loop whose utilization the test sets before each step. */
function governor(max = 64) {
  let busy = 0;
  const g = new IngestFirst(max, () => busy);
  const step = (utilization: number, accepted: number) => {
    busy = utilization;
    for (let i = 0; i < accepted; i++) g.noteAccepted();
    return g.step();
  };
  return { g, step };
}

describe('ingest first (delivery gives way on a saturated event loop)', () => {
  it('halves delivery’s jobs at once while the loop is saturated and events are accepted, to a quarter', () => {
    const { g, step } = governor(64);
    expect(g.limit()).toBe(64);
    expect([step(0.95, 3), step(0.97, 1), step(0.99, 5)]).toEqual([32, 16, 16]);
  });

  it('leaves delivery alone on a saturated loop when nothing is being accepted', () => {
    const { step } = governor(64);
    expect([step(0.99, 0), step(1, 0)]).toEqual([64, 64]);
  });

  it('gives 8 back a step once the loop has room, or ingest has stopped', () => {
    const { step } = governor(64);
    step(0.95, 1);
    step(0.95, 1);
    expect([step(0.5, 2), step(0.99, 0), step(0.6, 0)]).toEqual([24, 32, 40]);
  });

  it('holds its limit while the loop is busy but not saturated', () => {
    const { step } = governor(64);
    step(0.95, 1);
    expect([step(0.85, 4), step(0.85, 4)]).toEqual([32, 32]);
  });

  it('never goes under one job at once', () => {
    const { step } = governor(2);
    expect([step(1, 1), step(1, 1)]).toEqual([1, 1]);
  });
});
