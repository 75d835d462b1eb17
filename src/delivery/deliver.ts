import type { AuditEntry } from '../audit/types.js';
import type { GenesysClient } from '../genesys/client.js';
import type { Failure, Outcome } from '../genesys/outcome.js';
import type { Clock } from '../lib/clock.js';
import type { Job } from '../queue/queue.js';
import type { Handler, JobResult } from '../queue/runner.js';
import type { TenantStore } from '../tenants/store.js';
import type { Budgets } from './budget.js';
import { changedAttributes, resolveParticipant } from './participants.js';
import type { DeliverPayload } from './process-events.js';
import type { DeliveryRecorder } from './recorder.js';
import { retryDelay, visibilityDelay } from './retry-policy.js';

export interface DeliveryDeps {
  genesys: GenesysClient;
  tenants: TenantStore;
  budgets: Budgets;
  recorder: DeliveryRecorder;
  clock: Clock;
  /** How long a conversation or participant not visible yet is waited for (default 2 min). */
  notVisibleWindowMs?: number;
  random?: () => number;
  /** Every outcome recorded (metrics). */
  onOutcome?: (outcome: string) => void;
}

export type SkipReason =
  | 'participant_terminated'
  | 'conversation_ended'
  | 'participant_not_found'
  | 'no_change';

/**
 * One delivery job, per the contract's steps: read the conversation at send time, pick the
 * participant, send only what differs as `{"attributes":{…}}`, and classify what Genesys says.
 * Every Genesys call draws from the org's budget and is recorded as an attempt; every outcome is
 * one audit row (patch.applied / skipped / retrying / failed).
 */
export function deliveryHandler(deps: DeliveryDeps): Handler {
  const windowMs = deps.notVisibleWindowMs ?? 120_000;
  return async (job) => {
    const d = new Delivery(deps, job, windowMs);
    return d.run();
  };
}

class Delivery {
  private readonly payload: DeliverPayload;
  private participantId: string | undefined;

  constructor(
    private readonly deps: DeliveryDeps,
    private readonly job: Job,
    private readonly windowMs: number,
  ) {
    this.payload = job.payload as DeliverPayload;
  }

  async run(): Promise<JobResult> {
    const tenant = await this.deps.tenants.get(this.job.orgId);
    if (!tenant) return { kind: 'failed', error: 'the org is no longer installed' };
    const perMinute = tenant.settings.requestsPerMinute;
    const api = this.deps.genesys.forOrg(this.job.orgId);
    const { conversationId } = this.payload.target;

    // The read and the PATCH, reserved together (a no_change leaves one unused: conservative).
    const budgetWait = this.budget(perMinute, 2);
    if (budgetWait) return budgetWait;
    const read = await this.call('getConversation', () => api.getConversation(conversationId));
    if (read.kind !== 'ok') return read.kind === 'not_found' ? this.notVisible() : this.failure(read);

    const resolved = resolveParticipant(read.value, this.payload.target.participant);
    if (resolved.kind === 'participant_not_found') return this.notVisible();
    if (resolved.kind === 'conversation_ended') return this.skip('conversation_ended');
    if (resolved.kind === 'participant_terminated') {
      this.participantId = resolved.participantId;
      return this.skip('participant_terminated');
    }
    const participant = resolved.participant;
    this.participantId = participant.id;
    const changes = changedAttributes(participant.attributes, this.payload.attributes);
    if (Object.keys(changes).length === 0) return this.skip('no_change');

    const sent = await this.call('patchParticipantAttributes', () =>
      api.patchParticipantAttributes(conversationId, participant.id, changes),
    );
    if (sent.kind === 'ok') {
      this.audit('patch.applied', 'applied', {
        attributes: changes,
        status: sent.status,
        attempts: this.job.attempts + 1,
        correlationId: sent.correlationId,
      });
      return { kind: 'done' };
    }
    if (sent.kind === 'not_found') return this.notVisible();
    if (sent.kind === 'conflict') return this.conflict(sent, perMinute);
    return this.failure(sent);
  }

  /** A Genesys call, drawn from the org's budget by the caller, recorded as an attempt. */
  private async call<T>(operation: string, send: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
    const started = this.deps.clock.now();
    const t0 = performance.now();
    const outcome = await send();
    this.deps.recorder.attempt({
      orgId: this.job.orgId,
      jobId: this.job.id,
      eventId: this.payload.eventId,
      at: started,
      operation,
      status: outcome.status,
      outcome: outcome.kind,
      code: outcome.kind === 'ok' ? undefined : outcome.code,
      correlationId: outcome.correlationId,
      durationMs: performance.now() - t0,
    });
    if (outcome.kind === 'rate_limited')
      this.deps.budgets.pause(this.job.orgId, started + (outcome.retryAfterMs ?? 60_000));
    return outcome;
  }

  private budget(perMinute: number, calls: number): JobResult | undefined {
    const next = this.deps.budgets.take(this.job.orgId, perMinute, this.deps.clock.now(), calls);
    return next === undefined
      ? undefined
      : { kind: 'wait', runAt: next, reason: 'waiting for the org’s request budget' };
  }

  /** Fresh conversations take a moment to become visible; a participant may not have joined yet. */
  private notVisible(): JobResult {
    const now = this.deps.clock.now();
    const waited = now - this.job.createdAt;
    if (waited >= this.windowMs) return this.skip('participant_not_found');
    const delay = visibilityDelay(Math.floor(Math.log2(waited / 1000 + 1)));
    return {
      kind: 'wait',
      runAt: Math.min(now + delay, this.job.createdAt + this.windowMs),
      reason: 'not visible yet',
    };
  }

  /**
   * 409: re-read and classify. Ended → skipped; otherwise one more try, and a second conflict
   * fails rather than looping.
   */
  private async conflict(f: Failure, perMinute: number): Promise<JobResult> {
    const api = this.deps.genesys.forOrg(this.job.orgId);
    // The re-read takes its own budget; without any left, the retry below decides alone.
    const canRead = this.deps.budgets.take(this.job.orgId, perMinute, this.deps.clock.now()) === undefined;
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
    this.deps.onOutcome?.(outcome);
    this.deps.recorder.audit({
      orgId: this.job.orgId,
      at: this.deps.clock.now(),
      kind,
      actor: { type: 'system', job: this.job.id },
      eventId: this.payload.eventId,
      ruleIds: this.payload.rules.map((r) => r.ruleId),
      conversationId: this.payload.target.conversationId,
      participantId: this.participantId,
      outcome,
      detail: { ...detail, rules: this.payload.rules },
    });
  }
}

function describe(f: Failure) {
  return {
    status: f.status ?? null,
    code: f.code,
    message: f.message,
    correlationId: f.correlationId ?? null,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
