import type { Clock } from '../lib/clock.js';

/** Where an install without credentials is; `waiting_for_role` can last up to a minute. */
export type InstallStep =
  | 'checking'
  | 'creating_role'
  | 'granting_role'
  | 'waiting_for_role'
  | 'creating_client'
  | 'done'
  | 'failed';

export interface InstallProgressView {
  step: InstallStep;
  /** What is happening, in a sentence the UI shows as it is. */
  message: string;
  startedAt: number;
  /** While waiting for the role: how long so far, the bound, and how many checks of users/me. */
  waitedMs: number;
  timeoutMs: number;
  checks: number;
}

/** Forgotten this long after their last change (the UI polls while its request is open). */
const KEEP_MS = 10 * 60_000;
const MAX_ENTRIES = 1_000;

/**
 * Progress of running installs, keyed by the request id the client chose (`x-request-id`), so the
 * admin UI can show what Genesys is making it wait for while its POST /v1/install is open. Holds
 * no secret and no org data: a step, a sentence and a few numbers. In memory: an install is one
 * request on one instance.
 */
export class InstallProgress {
  private readonly entries = new Map<string, InstallProgressView & { touchedAt: number }>();

  constructor(private readonly clock: Clock) {}

  report(
    requestId: string,
    step: InstallStep,
    message: string,
    wait?: { waitedMs: number; timeoutMs: number; checks: number },
  ): void {
    const now = this.clock.now();
    this.prune(now);
    const previous = this.entries.get(requestId);
    this.entries.delete(requestId);
    this.entries.set(requestId, {
      step,
      message,
      startedAt: previous?.startedAt ?? now,
      waitedMs: wait?.waitedMs ?? 0,
      timeoutMs: wait?.timeoutMs ?? 0,
      checks: wait?.checks ?? 0,
      touchedAt: now,
    });
  }

  get(requestId: string): InstallProgressView | undefined {
    const entry = this.entries.get(requestId);
    if (!entry || entry.touchedAt + KEEP_MS < this.clock.now()) return undefined;
    const { touchedAt: _touched, ...view } = entry;
    return view;
  }

  /** Oldest first (a Map keeps insertion order and `report` re-inserts): drop stale and excess. */
  private prune(now: number): void {
    for (const [id, entry] of this.entries) {
      if (entry.touchedAt + KEEP_MS >= now && this.entries.size < MAX_ENTRIES) break;
      this.entries.delete(id);
    }
  }
}

/** What a verb reports to; a no-op when nobody is listening. */
export type ProgressReporter = (
  step: InstallStep,
  message: string,
  wait?: { waitedMs: number; timeoutMs: number; checks: number },
) => void;

export const noProgress: ProgressReporter = () => {};
