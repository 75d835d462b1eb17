import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { NewJob } from '../queue/queue.js';
import { compileRule } from '../rules/compile.js';
import { MAX_ATTRIBUTE_VALUE } from '../rules/dry-run.js';
import { RuleSet, type Target, targetKey } from '../rules/match.js';
import type { RuleStore } from '../rules/store.js';
import type { Decision, EventProcessingStore, PendingEvent } from './events-store.js';
import { RETRY_SCHEDULE_MS } from './retry-policy.js';

export const DELIVER_JOB = 'deliver';

/** What a delivery job carries: one event's merged attributes for one target participant. */
export interface DeliverPayload {
  eventId: string;
  /** The event's source: every patch.* audit row names it. Absent on jobs queued before it was kept. */
  sourceId?: string;
  target: Target;
  attributes: Record<string, string>;
  from: Record<string, { ruleId: string; version: number }>;
  rules: Array<{ ruleId: string; version: number }>;
}

/** One lane per org + conversation + participant selector: deliveries to it run in order. */
export function laneOf(orgId: string, target: Target): string {
  return `${orgId}\u0000${targetKey(target)}`;
}

/** Pure: what the org's rules make of one event. */
export function decide(
  event: PendingEvent,
  rules: RuleSet,
  now: number,
  maxValueLength = MAX_ATTRIBUTE_VALUE,
): Decision {
  const result = rules.match(event.body, event.sourceId, {
    maxValueLength,
    explain: false,
  });
  const base = {
    orgId: event.orgId,
    at: now,
    actor: { type: 'system' as const, job: 'process-event' },
    sourceId: event.sourceId,
    eventId: event.id,
  };
  if (result.patches.length === 0) {
    return {
      eventId: event.id,
      replays: event.replays,
      audit: {
        ...base,
        kind: 'event.unmatched',
        outcome: 'unmatched',
        detail: { rulesConsidered: rules.rules.length },
      },
      jobs: [],
    };
  }
  const ruleIds = [...new Set(result.matches.map((m) => m.ruleId))];
  const conversations = [...new Set(result.patches.map((p) => p.target.conversationId))];
  const jobs: NewJob[] = result.patches.map((p) => ({
    kind: DELIVER_JOB,
    orgId: event.orgId,
    lane: laneOf(event.orgId, p.target),
    payload: {
      eventId: event.id,
      sourceId: event.sourceId,
      target: p.target,
      attributes: p.attributes,
      from: p.from,
      rules: p.rules,
    } satisfies DeliverPayload,
    idempotencyKey: jobKey(event.id, event.replays, p.target),
    // One more than the retry schedule: the handler, not the runner, decides (and audits) the end.
    maxAttempts: RETRY_SCHEDULE_MS.length + 1,
  }));
  return {
    eventId: event.id,
    replays: event.replays,
    audit: {
      ...base,
      kind: 'event.matched',
      outcome: 'matched',
      ruleIds,
      conversationId: conversations.length === 1 ? conversations[0] : undefined,
      detail: {
        matches: result.matches.map((m) => ({
          ruleId: m.ruleId,
          version: m.version,
          target: m.target,
          dropped: m.dropped,
        })),
        deliveries: jobs.length,
      },
    },
    jobs,
  };
}

/**
 * Turns pending events into delivery jobs, in batches: each batch's audit rows, jobs and event
 * states commit together, so an event is processed exactly once and no job is ever lost. Each
 * org's rules are compiled once per change of its rule set.
 */
export class EventProcessor {
  private readonly cache = new Map<string, { stamp: string; set: RuleSet }>();

  constructor(
    private readonly deps: {
      store: EventProcessingStore;
      rules: RuleStore;
      clock: Clock;
      logger: Logger;
      /** The org's longest attribute value (its setting); the default without one. */
      valueLimit?: (orgId: string) => Promise<number>;
    },
    private readonly batchSize = 200,
  ) {}

  /** Processes one batch; returns how many events it processed (0: nothing was pending). */
  async processBatch(): Promise<number> {
    const events = await this.deps.store.pending(this.batchSize);
    if (events.length === 0) return 0;
    const orgIds = [...new Set(events.map((e) => e.orgId))];
    const stamps = await this.deps.rules.stamps(orgIds);
    const sets = new Map<string, RuleSet>();
    const limits = new Map<string, number>();
    for (const orgId of orgIds) {
      sets.set(orgId, await this.ruleSet(orgId, stamps.get(orgId)!));
      limits.set(orgId, (await this.deps.valueLimit?.(orgId)) ?? MAX_ATTRIBUTE_VALUE);
    }
    const now = this.deps.clock.now();
    const decisions = events.map((e) => decide(e, sets.get(e.orgId)!, now, limits.get(e.orgId)));
    return (await this.deps.store.commit(decisions, now)).length;
  }

  /** Until nothing is pending (tests; and the worker's inner loop). */
  async drain(): Promise<number> {
    let total = 0;
    for (let n = await this.processBatch(); n > 0; n = await this.processBatch()) total += n;
    return total;
  }

  private async ruleSet(orgId: string, stamp: string): Promise<RuleSet> {
    const hit = this.cache.get(orgId);
    if (hit && hit.stamp === stamp) return hit.set;
    const set = new RuleSet((await this.deps.rules.list(orgId)).map(compileRule));
    this.cache.set(orgId, { stamp, set });
    return set;
  }
}

/** A delivery's idempotency key: the event, which replay, which participant. */
function jobKey(eventId: string, replays: number, target: DeliverPayload['target']): string {
  return `${eventId}\u0000${replays}\u0000${targetKey(target)}`;
}

/** Bounds (exclusive) of every key `jobKey` makes for one event: a range scan finds its jobs. */
export function jobKeyRange(eventId: string): [string, string] {
  return [`${eventId}\u0000`, `${eventId}\u0001`];
}
