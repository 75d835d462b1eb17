import type { Claimed, Job, JobQueue } from '../../src/queue/queue.js';

/** One claim, as a runner with one free slot makes it: `claimSome` for a single job. */
export async function claimNext(
  queue: JobQueue,
  now: number,
  leaseMs: number,
  pausedOrgs: readonly string[] = [],
  served: Readonly<Record<string, number>> = {},
  fold: (head: Job) => number = () => 0,
): Promise<Claimed | undefined> {
  return (await queue.claimSome(now, leaseMs, 1, pausedOrgs, served, fold))[0];
}
