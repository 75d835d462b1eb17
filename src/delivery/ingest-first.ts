import { performance } from 'node:perf_hooks';

/**
 * Ingest first, where one thread both accepts events and delivers them (SQLite).
 *
 * Under load delivery took the larger share of that thread: signed ingest kept 0.41 of its rate
 * alone while delivery was busy, p99 62 ms (perf bench). A sender kept waiting may time out and
 * send again; a delivery that waits a second loses nothing. So while the event loop is saturated
 * (busy over 90 % of the last 100 ms) and events are being accepted, delivery halves the jobs it
 * runs at once, down to a quarter of its concurrency; it adds 8 back every 100 ms once the loop has
 * room (under 80 %) or nothing is accepted.
 *
 * Measured (perf bench, SQLite): ingest while delivering 0.41 → 0.51–0.60 of alone, p99 62 → 48–53 ms;
 * delivery fell from 438 to 171 events/s for as long as ingest kept the loop saturated, and caught
 * up after. The delivery case (ingest and delivery together, then delivery alone) was unchanged:
 * 800 vs 816 patched/s.
 *
 * Not on PostgreSQL, where it is a trade the perf bench (2 cores shared with the database) does
 * not settle. While claims spent two round trips a head it bought ingest nothing (1,877 vs 1,857
 * req/s). Since they take a lookup's heads together, delivery takes more of the machine: ingest
 * while delivering fell from 0.52 to 0.35–0.36 of alone, and 2,000 events/s sent were all accepted
 * but at 1,458–1,847/s. With the throttle that was 0.42–0.48 and 1,671–1,954/s, but in the 200-org
 * case, whose 32,000 events arrive as fast as 64 senders can send them, delivery held to a quarter
 * of its slots left 154–194 orgs at ≥ 95 % of their budget in their busiest minute, against 175,
 * 200 and 200 without it. Every event was accepted either way, only later; the full budgets are
 * met more often without the throttle, so it stays SQLite's.
 */
export class IngestFirst {
  static readonly EVERY_MS = 100;
  private accepted = 0;
  private cap: number;
  private readonly floor: number;

  constructor(
    private readonly max: number,
    /** How busy the event loop was since the last call, 0–1. */
    private readonly utilization: () => number = loopUtilization(),
  ) {
    this.cap = max;
    this.floor = Math.max(1, Math.ceil(max / 4));
  }

  /** Events were accepted (ingest committed a batch). */
  noteAccepted(): void {
    this.accepted++;
  }

  /** How many jobs delivery may run at once now. */
  limit(): number {
    return this.cap;
  }

  /** Every EVERY_MS: looks at the loop and at ingest since the last step, and sets the limit. */
  step(): number {
    const busy = this.utilization();
    if (busy > 0.9 && this.accepted > 0) this.cap = Math.max(this.floor, Math.floor(this.cap / 2));
    else if (busy < 0.8 || this.accepted === 0) this.cap = Math.min(this.max, this.cap + 8);
    this.accepted = 0;
    return this.cap;
  }
}

/** The event loop's utilization since the previous call (node's own measure: cheap, no timers). */
function loopUtilization(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return u;
  };
}
