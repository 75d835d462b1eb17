/**
 * When to try a failed delivery again (svix's shape): a schedule indexed by the attempt number,
 * with ±20% jitter so a burst of failures does not come back as a burst. Past the schedule the
 * delivery has failed.
 */
export const RETRY_SCHEDULE_MS = [1_000, 5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 10_800_000];
const JITTER = 0.2;

/** Delay before attempt `failedAttempts + 1`, or undefined when the schedule is used up. */
export function retryDelay(
  failedAttempts: number,
  random: () => number = Math.random,
  schedule = RETRY_SCHEDULE_MS,
): number | undefined {
  const base = schedule[failedAttempts - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

/** While a conversation (or its participant) is not visible yet: 1 s, 2 s, 4 s … capped at 15 s. */
export function visibilityDelay(waitsSoFar: number): number {
  return Math.min(15_000, 1_000 * 2 ** waitsSoFar);
}
