import type { AuditEntry } from '../audit/types.js';
import type { GenesysClient } from '../genesys/client.js';
import { type Failure, failure, type Outcome } from '../genesys/outcome.js';
import type { Conversation } from '../genesys/types.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { Claimed, Job } from '../queue/queue.js';
import type { Handler, JobResult } from '../queue/runner.js';
import { type DivisionCoverage, divisionAdvice } from '../tenants/division-coverage.js';
import type { TenantStore } from '../tenants/store.js';
import type { BudgetStore } from './budget.js';
import type { ConversationCache } from './conversation-cache.js';
import { changedAttributes, resolveParticipant } from './participants.js';
import type { DeliverPayload } from './process-events.js';
import type { DeliveryRecorder } from './recorder-store.js';
import { retryDelay, visibilityDelay } from './retry-policy.js';

export interface DeliveryDeps {
  genesys: GenesysClient;
  tenants: TenantStore;
  budgets: BudgetStore;
  recorder: DeliveryRecorder;
  clock: Clock;
  /** With a cache, a conversation read moments ago is reused instead of read again. */
  conversations?: ConversationCache;
  /** How long a conversation or participant not visible yet is waited for (default 2 min). */
  notVisibleWindowMs?: number;
  random?: () => number;
  /** Every outcome recorded (metrics). */
  onOutcome?: (outcome: string) => void;
  /** One line per outcome, so an operator sees a failed PATCH without querying the API. */
  logger?: Logger;
  /**
   * Which of the org's divisions the grant reaches: a refused read is explained by it. `reserve`
   * is asked before calling Genesys; false: only a recorded reading (no budget left for 2 calls).
   */
  divisions?: {
    current(orgId: string, reserve: () => Promise<boolean>): Promise<DivisionCoverage | undefined>;
  };
}

export type SkipReason =
  /** Folded with later events that set the same attributes: their values went out instead. */
  'superseded' | 'participant_terminated' | 'conversation_ended' | 'participant_not_found' | 'no_change';

/** How many ready jobs queued behind a delivery in its lane are claimed with it (the runner's `fold`). */
export const FOLD_LIMIT = 50;
/** Genesys' request body limit (shared/genesys §12.5). */
export const GENESYS_BODY_LIMIT = 512_000;

/**
 * One delivery job, per the contract's steps: read the conversation at send time (or reuse one
 * read moments ago), pick the participant, send only what differs as `{"attributes":{…}}`, and
 * classify what Genesys says. Ready jobs queued behind it in its lane are folded in (later
 * events' values win per key): a burst on one participant becomes one PATCH, and each folded
 * event's audit row names the job it went out with. Every Genesys call draws from the org's
 * budget and is recorded as an attempt.
 */
export function deliveryHandler(deps: DeliveryDeps): Handler {
  return (job) => new Delivery(deps, job).run();
}

class Delivery {
  private readonly payload: DeliverPayload;
  private participantId: string | undefined;
  private followers: Job[] = [];
  /** The conversation itself was not found (not just its participant): maybe out of our divisions. */
  private conversationUnseen = false;
  private perMinute = 0;
  private managedGrant = false;
  /** Audit rows of this run, written with the jobs' new state (and only if the run still owns them). */
  private readonly entries: Array<{ entry: AuditEntry; outcome: string }> = [];
  /** Each call's attempt row, written while the run goes on and awaited before it settles. */
  private readonly recorded: Array<Promise<void>> = [];

  constructor(
    private readonly deps: DeliveryDeps,
    private readonly job: Claimed,
  ) {
    this.payload = job.payload as DeliverPayload;
    // Claimed with it by the queue (the runner's `fold`): they go out in the same PATCH. Always
    // the same ones again after a crash or a retry, or an older value could follow a newer one.
    this.followers = [...job.followers];
  }

  async run(): Promise<JobResult> {
    const result = await this.attempt();
    await Promise.all(this.recorded);
    return { ...result, audit: this.entries.map((e) => e.entry), afterSettle: () => this.announce() };
  }

  /** Metrics and one log line per outcome, once the outcome is committed. */
  private announce(): void {
    for (const { entry, outcome } of this.entries) {
      this.deps.onOutcome?.(outcome);
      const failed = entry.kind === 'patch.failed';
      this.deps.logger?.[failed ? 'warn' : 'info'](entry.kind, {
        orgId: entry.orgId,
        eventId: entry.eventId,
        conversationId: entry.conversationId,
        outcome,
        reason: entry.detail?.reason ?? entry.detail?.code,
        attempts: this.job.attempts + 1,
        jobId: this.job.id,
      });
    }
  }

  private async attempt(): Promise<JobResult> {
    const { orgId } = this.job;
    const tenant = await this.deps.tenants.get(orgId);
    if (!tenant) return { kind: 'failed', error: 'the org is no longer installed' };
    const perMinute = tenant.settings.requestsPerMinute;
    this.perMinute = perMinute;
    this.managedGrant = tenant.grant.managed;
    const api = this.deps.genesys.forOrg(orgId);
    const { conversationId } = this.payload.target;
    const now = this.deps.clock.now();

    let conversation = this.deps.conversations?.get(orgId, conversationId, now);
    // The read (unless a fresh copy is at hand) and the PATCH, reserved together.
    const budgetWait = await this.budget(perMinute, conversation ? 1 : 2);
    if (budgetWait) return budgetWait;
    if (!conversation) {
      const readFrom = this.deps.conversations?.mark();
      const read = await this.call('getConversation', () => api.getConversation(conversationId));
      if (read.kind === 'not_found') {
        this.conversationUnseen = true;
        return this.notVisible();
      }
      if (read.kind !== 'ok')
        return read.status === 403
          ? ((await this.outOfDivision(read)) ?? this.fail(read))
          : this.failure(read);
      conversation = read.value;
      this.deps.conversations?.put(orgId, conversationId, conversation, this.deps.clock.now(), readFrom);
    }
    return this.patch(
      conversation,
      perMinute,
      tenant.settings.endedParticipants === 'patch-until-conversation-ends',
    );
  }

  private async patch(
    conversation: Conversation,
    perMinute: number,
    patchEnded: boolean,
  ): Promise<JobResult> {
    const { orgId } = this.job;
    const { conversationId } = this.payload.target;
    const resolved = resolveParticipant(conversation, this.payload.target.participant);
    if (resolved.kind === 'participant_not_found') return this.notVisible();
    if (resolved.kind === 'conversation_ended') return this.skip('conversation_ended');
    if (resolved.kind === 'participant_terminated') {
      this.participantId = resolved.participantId;
      if (!patchEnded) return this.skip('participant_terminated');
    }
    // The org asked for ended participants to be patched while the conversation goes on.
    const participant =
      resolved.kind === 'found'
        ? resolved.participant
        : conversation.participants.find((p) => p.id === resolved.participantId)!;
    const ended = resolved.kind === 'participant_terminated';
    this.participantId = participant.id;
    const changes = changedAttributes(participant.attributes, this.wanted());
    if (Object.keys(changes).length === 0) return this.skip('no_change');
    // Genesys refuses a body over 512,000 bytes: one that big could never succeed, so it is not sent.
    const bytes = Buffer.byteLength(JSON.stringify({ attributes: changes }));
    if (bytes > GENESYS_BODY_LIMIT) {
      const message = `the PATCH body would be ${bytes} bytes; Genesys takes at most ${GENESYS_BODY_LIMIT}`;
      return this.fail(failure('permanent', 'body_too_large', message));
    }

    const api = this.deps.genesys.forOrg(orgId);
    const sent = await this.call('patchParticipantAttributes', () =>
      api.patchParticipantAttributes(conversationId, participant.id, changes),
    );
    if (sent.kind === 'ok') {
      this.deps.conversations?.applied(orgId, conversationId, participant.id, changes);
      this.auditApplied(changes, {
        purpose: participant.purpose,
        status: sent.status,
        attempts: this.job.attempts + 1,
        correlationId: sent.correlationId,
      });
      return { kind: 'done' };
    }
    this.deps.conversations?.drop(orgId, conversationId);
    // Genesys refused a PATCH on an ended participant: an answer, not a reason to retry.
    if (ended && (sent.kind === 'permanent' || sent.kind === 'conflict' || sent.kind === 'not_found')) {
      this.audit('patch.skipped', 'participant_terminated', {
        reason: 'participant_terminated',
        ...describe(sent),
      });
      return { kind: 'done' };
    }
    if (sent.kind === 'not_found') return this.notVisible();
    if (sent.kind === 'conflict') return this.conflict(sent, perMinute);
    return this.failure(sent);
  }

  /** The attributes to deliver: this job's, then each folded job's on top (later events win). */
  private wanted(): Record<string, string> {
    const out = { ...this.payload.attributes };
    for (const f of this.followers) Object.assign(out, (f.payload as DeliverPayload).attributes);
    return out;
  }

  /**
   * A Genesys call (its budget already taken), recorded for every event the run carries: a folded
   * event's `GET /v1/events/{id}` lists the calls that carried its values. The row is written
   * while the run goes on (the read's while the PATCH is out) and `run` waits for it before the
   * job settles: waiting after each call cost a commit's round trip per call (PostgreSQL: 490 ->
   * 523 patched/s, 1.05 -> 0.96 ms of CPU an event).
   */
  private async call<T>(operation: string, send: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
    const started = this.deps.clock.now();
    const t0 = performance.now();
    const outcome = await send();
    const recorded = this.deps.recorder.attempt({
      orgId: this.job.orgId,
      jobId: this.job.id,
      eventIds: [...new Set(this.jobs().map((j) => payloadOf(j).eventId))],
      at: started,
      operation,
      status: outcome.status,
      outcome: outcome.kind,
      code: outcome.kind === 'ok' ? undefined : outcome.code,
      correlationId: outcome.correlationId,
      durationMs: performance.now() - t0,
    });
    recorded.catch(() => {}); // awaited by run()
    this.recorded.push(recorded);
    if (outcome.kind === 'rate_limited')
      await this.deps.budgets.pause(this.job.orgId, started + (outcome.retryAfterMs ?? 60_000));
    return outcome;
  }

  private async budget(perMinute: number, calls: number): Promise<JobResult | undefined> {
    const next = await this.deps.budgets.take(this.job.orgId, perMinute, this.deps.clock.now(), calls);
    return next === undefined
      ? undefined
      : { kind: 'wait', runAt: next, reason: 'waiting for the org’s request budget' };
  }

  /** Fresh conversations take a moment to become visible; a participant may not have joined yet. */
  private async notVisible(): Promise<JobResult> {
    const now = this.deps.clock.now();
    // From the newest event of the fold: giving up skips them all, and one folded in a moment ago
    // has not had its own wait yet.
    const since = Math.max(...this.jobs().map((j) => j.createdAt));
    const waited = now - since;
    const windowMs = this.deps.notVisibleWindowMs ?? 120_000;
    if (waited >= windowMs) {
      // A Genesys that hides other divisions' conversations with a 404 looks like this too.
      const hidden = this.conversationUnseen
        ? await this.outOfDivision(
            failure('not_found', 'not.found', 'The conversation was not found.', { status: 404 }),
          )
        : undefined;
      return hidden ?? this.skip('participant_not_found');
    }
    const delay = visibilityDelay(Math.floor(Math.log2(waited / 1000 + 1)));
    return {
      kind: 'wait',
      runAt: Math.min(now + delay, since + windowMs),
      reason: 'not visible yet',
    };
  }

  /**
   * Genesys refused (403) or never showed (404) the conversation, and the grant's roles miss some
   * of the org's divisions: `patch.failed` `division_not_granted`, naming them and the fix.
   * Undefined when the grant reaches every division (or that is unknown): the refusal stands.
   */
  private async outOfDivision(f: Failure): Promise<JobResult | undefined> {
    const { orgId } = this.job;
    const reserve = async () =>
      (await this.deps.budgets.take(orgId, this.perMinute, this.deps.clock.now(), 2)) === undefined;
    const coverage = await this.deps.divisions?.current(orgId, reserve);
    if (!coverage || coverage.missing.length === 0) return undefined;
    this.audit('patch.failed', 'failed', {
      ...describe(f),
      reason: 'division_not_granted',
      message: divisionAdvice(coverage.missing, this.managedGrant),
      missingDivisions: coverage.missing,
      attempts: this.job.attempts + 1,
    });
    return { kind: 'failed', error: `division_not_granted: ${f.code}` };
  }

  /** 409: re-read and classify. Ended → skipped; otherwise one more try, then failed. */
  private async conflict(f: Failure, perMinute: number): Promise<JobResult> {
    const api = this.deps.genesys.forOrg(this.job.orgId);
    // The re-read takes its own budget; without any left, the retry below decides alone.
    const canRead =
      (await this.deps.budgets.take(this.job.orgId, perMinute, this.deps.clock.now())) === undefined;
    const read = canRead
      ? await this.call('getConversation', () => api.getConversation(this.payload.target.conversationId))
      : undefined;
    if (read?.kind === 'ok') {
      const r = resolveParticipant(read.value, this.payload.target.participant);
      if (r.kind === 'conversation_ended' || r.kind === 'participant_terminated') return this.skip(r.kind);
    }
    if (this.job.lastError?.startsWith('conflict')) return this.fail(f);
    const runAt = this.deps.clock.now() + 1_000;
    this.audit('patch.retrying', 'retrying', {
      ...describe(f),
      attempt: this.job.attempts + 1,
      nextAttemptAt: iso(runAt),
    });
    return { kind: 'retry', runAt, error: `conflict: ${f.code}` };
  }

  private failure(f: Failure): JobResult {
    if (f.kind === 'rate_limited') {
      return {
        kind: 'wait',
        runAt: this.deps.clock.now() + (f.retryAfterMs ?? 60_000),
        reason: 'rate limited (429)',
      };
    }
    if (f.kind === 'retryable' || f.kind === 'unauthorized') {
      const delay = retryDelay(this.job.attempts + 1, this.deps.random);
      if (delay === undefined) return this.fail(f);
      const runAt = this.deps.clock.now() + delay;
      this.audit('patch.retrying', 'retrying', {
        ...describe(f),
        attempt: this.job.attempts + 1,
        nextAttemptAt: iso(runAt),
      });
      return { kind: 'retry', runAt, error: `${f.code}: ${f.message}` };
    }
    return this.fail(f);
  }

  private fail(f: Failure): JobResult {
    this.audit('patch.failed', 'failed', { ...describe(f), attempts: this.job.attempts + 1 });
    return { kind: 'failed', error: `${f.code}: ${f.message}` };
  }

  private skip(reason: SkipReason): JobResult {
    this.audit('patch.skipped', reason, { reason });
    return { kind: 'done' };
  }

  private audit(kind: AuditEntry['kind'], outcome: string, detail: Record<string, unknown>): void {
    const final = kind === 'patch.applied' || kind === 'patch.skipped';
    for (const j of final ? this.jobs() : [this.job]) this.entry(j, kind, outcome, detail);
  }

  /**
   * A PATCH went out: each event is credited with the attributes whose value was its own (the
   * last event of the fold to set a key wins it). An event whose every key was won by a later one
   * is `superseded`, one whose own values were there already `no_change`: the audit (and lineage)
   * never claims an event wrote a value it did not.
   */
  private auditApplied(changes: Record<string, string>, result: Record<string, unknown>): void {
    const winner = new Map<string, Job>();
    for (const j of this.jobs()) for (const k of Object.keys(payloadOf(j).attributes)) winner.set(k, j);
    for (const j of this.jobs()) {
      const keys = Object.keys(payloadOf(j).attributes);
      const own = keys.filter((k) => winner.get(k) === j && k in changes);
      if (own.length > 0) {
        const attributes = Object.fromEntries(own.map((k) => [k, changes[k]]));
        // Which rule (and version) set each of them: lineage answers "why does she have this value".
        const from = Object.fromEntries(
          own.flatMap((k) => (payloadOf(j).from[k] ? [[k, payloadOf(j).from[k]]] : [])),
        );
        this.entry(j, 'patch.applied', 'applied', { attributes, from, ...result });
        continue;
      }
      const later = [...new Set(keys.map((k) => winner.get(k)!).filter((w) => w !== j))];
      if (later.length > 0) {
        const supersededBy = later.map((w) => payloadOf(w).eventId);
        this.entry(j, 'patch.skipped', 'superseded', { reason: 'superseded', supersededBy });
      } else this.entry(j, 'patch.skipped', 'no_change', { reason: 'no_change' });
    }
  }

  private jobs(): Job[] {
    return [this.job, ...this.followers];
  }

  private entry(j: Job, kind: AuditEntry['kind'], outcome: string, detail: Record<string, unknown>): void {
    const p = payloadOf(j);
    this.entries.push({
      outcome,
      entry: {
        orgId: this.job.orgId,
        at: this.deps.clock.now(),
        kind,
        actor: { type: 'system', job: this.job.id },
        eventId: p.eventId,
        sourceId: p.sourceId,
        ruleIds: p.rules.map((r) => r.ruleId),
        conversationId: p.target.conversationId,
        participantId: this.participantId,
        outcome,
        detail: {
          ...detail,
          rules: p.rules,
          ...(this.followers.length > 0
            ? { delivery: this.job.id, eventsInDelivery: this.followers.length + 1 }
            : {}),
          ...(j === this.job ? {} : { foldedInto: this.job.id }),
        },
      },
    });
  }
}

const payloadOf = (j: Job) => j.payload as DeliverPayload;

function describe(f: Failure) {
  return {
    status: f.status ?? null,
    code: f.code,
    message: f.message,
    correlationId: f.correlationId ?? null,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
