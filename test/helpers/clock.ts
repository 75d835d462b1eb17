import type { Clock } from '../../src/lib/clock.js';

/** A clock tests move by hand: no sleeps. */
export class ManualClock implements Clock {
  private sleepers: { until: number; wake: () => void }[] = [];

  constructor(private ms = Date.parse('2026-11-25T12:00:00Z')) {}
  now = (): number => this.ms;

  advance(ms: number): void {
    this.ms += ms;
    const due = this.sleepers.filter((s) => s.until <= this.ms);
    this.sleepers = this.sleepers.filter((s) => s.until > this.ms);
    for (const s of due) s.wake();
  }

  sleep = (ms: number): Promise<void> =>
    new Promise((wake) => {
      if (ms <= 0) wake();
      else this.sleepers.push({ until: this.ms + ms, wake });
    });

  /** How many sleeps are waiting for the clock to move: a test polls this before advancing. */
  get sleeping(): number {
    return this.sleepers.length;
  }
}
