/**
 * Time as a dependency: everything that compares or schedules by time takes a `Clock`, so tests
 * move time forward instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
