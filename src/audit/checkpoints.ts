import type { JsonWebKey, KeyObject } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import { idFloor } from '../lib/ids.js';
import { ChainWalk, type Checkpoint, signCheckpoint } from './chain.js';
import { type ChainStore, chainItem } from './store.js';

/** How old the newest checkpoint may get while rows are written (the pruner checks every 15 min). */
export const CHECKPOINT_EVERY_MS = 45 * 60_000;

export interface AuditKey {
  privateKey: KeyObject;
  publicJwk: JsonWebKey & { kid: string };
}

export interface VerifyResult {
  ok: boolean;
  /** Rows in the range that were checked. */
  rows: number;
  /** Signed checkpoints met (and matched) along the way. */
  checkpoints: number;
  firstMismatch?: { seq: number | null; id: string | null; reason: string };
}

/**
 * Signs chain heads and checks chains. Checkpoints are written at least hourly while an org's log
 * grows, and at every retention cut: the one at the last pruned row anchors the first kept row,
 * so the chain still verifies after pruning.
 */
export class AuditSeal {
  constructor(private readonly deps: { store: ChainStore; key: AuditKey; clock: Clock }) {}

  get publicJwk(): JsonWebKey & { kid: string } {
    return this.deps.key.publicJwk;
  }

  /** Signs the head of every org whose log grew since a checkpoint older than the period. */
  async checkpointDue(): Promise<number> {
    const now = this.deps.clock.now();
    let made = 0;
    for (const head of await this.deps.store.heads()) {
      const last = (await this.deps.store.checkpoints(head.orgId, head.seq)).at(-1);
      if (last && last.seq >= head.seq) continue;
      const previous = (await this.deps.store.checkpoints(head.orgId)).at(-1);
      if (previous && Date.parse(previous.at) > now - CHECKPOINT_EVERY_MS) continue;
      await this.sign(head.orgId, head, now);
      made++;
    }
    return made;
  }

  /**
   * Before retention deletes the org's rows made before `cut`: signs the last of them, which
   * anchors what is kept. Returns its seq (checkpoints before it may go), if any row is cut.
   */
  async anchorCut(orgId: string, cut: number): Promise<number | undefined> {
    const last = await this.deps.store.lastRowBefore(orgId, idFloor('aud', cut));
    if (!last) return undefined;
    await this.sign(orgId, last, this.deps.clock.now());
    return last.seq;
  }

  private async sign(orgId: string, at: { seq: number; hash: string }, now: number): Promise<Checkpoint> {
    const c = signCheckpoint(this.deps.key, {
      orgId,
      seq: at.seq,
      hash: at.hash,
      at: new Date(now).toISOString(),
    });
    await this.deps.store.addCheckpoint(c, now);
    return c;
  }

  /**
   * Walks the org's chain from its anchor (the genesis, or the checkpoint of the last pruned row)
   * to its head, or to the end of the range, a page at a time, yielding between pages. Rows are
   * counted when they fall in [from, to).
   */
  async verify(
    orgId: string,
    range: { from?: number | undefined; to?: number | undefined } = {},
  ): Promise<VerifyResult> {
    const { store } = this.deps;
    const checkpoints = await store.checkpoints(orgId);
    const first = (await store.chainPage(orgId, 0, 1))[0];
    const firstSeq = first?.seq ?? 1;
    const anchor = checkpoints.find((c) => c.seq === firstSeq - 1);
    if (firstSeq > 1 && !anchor) {
      const reason = `rows 1–${firstSeq - 1} are missing and no checkpoint anchors row ${firstSeq}`;
      return {
        ok: false,
        rows: 0,
        checkpoints: 0,
        firstMismatch: { seq: firstSeq, id: first?.id ?? null, reason },
      };
    }
    const walk = new ChainWalk(orgId, anchor, this.deps.key.publicJwk, checkpoints);
    let rows = 0;
    let after = 0;
    let ended = false;
    const broken = () => walk.firstMismatch !== undefined;
    while (!broken() && !ended) {
      const page = await store.chainPage(orgId, after, 1_000);
      for (const r of page) {
        if (range.to !== undefined && r.at >= range.to) {
          ended = true;
          break;
        }
        walk.row(chainItem(r), r.hash);
        if (broken()) break;
        if (range.from === undefined || r.at >= range.from) rows++;
        after = r.seq ?? after;
      }
      if (page.length < 1_000) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (!ended && range.to === undefined) walk.end(await store.head(orgId));
    return {
      ok: !walk.firstMismatch,
      rows,
      checkpoints: walk.checkpoints,
      ...(walk.firstMismatch ? { firstMismatch: walk.firstMismatch } : {}),
    };
  }
}
