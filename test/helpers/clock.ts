import type { Clock } from '../../src/lib/clock.js';

/** A clock tests move by hand: no sleeps. */
export class ManualClock implements Clock {
  constructor(private ms = Date.parse('2026-11-25T12:00:00Z')) {}
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}
