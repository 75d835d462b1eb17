import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainWalk } from '../../src/audit/chain.js';
import { appendAuditPg, pgAuditStore, pgChainStore } from '../../src/audit/pg-store.js';
import { settledFirst, sqliteAuditStaging } from '../../src/audit/staging-store.js';
import {
  type AuditStore,
  appendAudit,
  type ChainStore,
  chainItem,
  preparedAuditAppend,
  sqliteAuditStore,
  sqliteChainStore,
} from '../../src/audit/store.js';
import type { AuditEntry, AuditFilter, AuditItem } from '../../src/audit/types.js';
import { idFloor } from '../../src/lib/ids.js';
import { backends, type OnBackend, onSqlite } from './backends.js';

/**
 * Audit ids carry their row's time and never go back within a process (`newId`), so each backend's
 * rows start an hour after the previous one's: otherwise the second backend's ids would all carry
 * the first one's last time. T0 is the current backend's start.
 */
let T0 = Date.parse('2026-11-25T12:00:00Z') - 3_600_000;
const KINDS = ['event.received', 'patch.applied', 'patch.skipped', 'rule.updated'] as const;

/** Twelve rows of org-a, one a second, with every filterable field varied; then rows of org-b. */
const makeEntries = (): Array<AuditEntry & { detail: { i: number } }> =>
  Array.from({ length: 12 }, (_, i) => ({
    orgId: 'org-a',
    at: T0 + i * 1000,
    kind: KINDS[i % 4]!,
    actor: i % 2 ? { type: 'source', id: 'src_1' } : { type: 'system', job: `job_${i}` },
    sourceId: i % 2 ? 'src_1' : undefined,
    eventId: `evt_${i}`,
    ruleIds: i % 4 === 3 ? ['rule_x', 'rule_y'] : i === 5 ? ['rule_y'] : undefined,
    conversationId: i < 6 ? 'conv-1' : 'conv-2',
    participantId: 'p1',
    outcome: i % 3 === 0 ? 'accepted' : 'applied',
    detail: { i },
  }));

interface Audit {
  audit: AuditStore;
  chain: ChainStore;
  append(entry: AuditEntry): Promise<void>;
}

describe.each([
  ...backends<Audit>(
    ({ db }) => ({
      audit: sqliteAuditStore(db),
      chain: sqliteChainStore(db),
      append: async (e) => {
        db.transaction((tx) => appendAudit(tx, e));
      },
    }),
    ({ db }) => ({
      audit: pgAuditStore(db),
      chain: pgChainStore(db),
      append: async (e) => {
        await db.transaction((tx) => appendAuditPg(tx, e));
      },
    }),
  ),
  // The hot paths' append (ingest, processing, settles) stages its rows; the stores move them in.
  [
    'sqlite, rows staged',
    () =>
      onSqlite<Audit>((database) => {
        const { settle } = sqliteAuditStaging(database.sqlite);
        const append = preparedAuditAppend(database.sqlite);
        return {
          audit: settledFirst(sqliteAuditStore(database.db), settle),
          chain: settledFirst(sqliteChainStore(database.db), settle),
          append: async (e) => {
            append(e);
          },
        };
      }),
  ] as const,
])('AuditStore and ChainStore on %s', (_name, open) => {
  let b: OnBackend<Audit>;
  let entries: ReturnType<typeof makeEntries>;
  beforeAll(async () => {
    T0 += 3_600_000;
    entries = makeEntries();
    b = await open();
    for (const e of entries) await b.store.append(e);
    for (let i = 0; i < 3; i++) {
      await b.store.append({ ...entries[i]!, orgId: 'org-b', detail: { i: 100 + i } });
    }
  });
  afterAll(() => b?.close());

  const n = (item: AuditItem | { detail: unknown }) =>
    (typeof item.detail === 'string' ? JSON.parse(item.detail) : item.detail).i as number;
  /** The entries a filter should find, newest first. */
  const expected = (pred: (e: ReturnType<typeof makeEntries>[number]) => boolean) =>
    entries
      .filter(pred)
      .map((e) => e.detail.i)
      .reverse();
  const list = async (f: Omit<AuditFilter, 'limit'>, limit = 50) =>
    (await b.store.audit.list('org-a', { limit, ...f })).items.map(n);

  it('lists newest first, one org only, each item shaped as the API returns it', async () => {
    expect(await list({})).toEqual(expected(() => true));
    const [item] = (await b.store.audit.list('org-a', { limit: 1, eventId: 'evt_3' })).items;
    expect(item).toEqual({
      id: expect.stringMatching(/^aud_/),
      at: new Date(T0 + 3000).toISOString(),
      kind: 'rule.updated',
      actor: { type: 'source', id: 'src_1' },
      sourceId: 'src_1',
      eventId: 'evt_3',
      ruleIds: ['rule_x', 'rule_y'],
      conversationId: 'conv-1',
      participantId: 'p1',
      outcome: 'accepted',
      detail: { i: 3 },
      seq: 4,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // The same keys in the same order as SQLite's toItem (the JSON the API writes).
    expect(Object.keys(item!)).toEqual([
      ...['id', 'at', 'kind', 'actor', 'sourceId', 'eventId', 'ruleIds', 'conversationId'],
      ...['participantId', 'outcome', 'detail', 'seq', 'hash'],
    ]);
    const [bare] = (await b.store.audit.list('org-a', { limit: 1, eventId: 'evt_0' })).items;
    expect(bare).toMatchObject({ sourceId: null, ruleIds: [], detail: { i: 0 } });
  });

  it('applies every filter, alone and together', async () => {
    expect(await list({ kinds: ['patch.applied', 'patch.skipped'] })).toEqual(
      expected((e) => e.kind === 'patch.applied' || e.kind === 'patch.skipped'),
    );
    expect(await list({ outcome: 'accepted' })).toEqual(expected((e) => e.outcome === 'accepted'));
    expect(await list({ conversationId: 'conv-2' })).toEqual(expected((e) => e.conversationId === 'conv-2'));
    expect(await list({ sourceId: 'src_1' })).toEqual(expected((e) => e.sourceId === 'src_1'));
    expect(await list({ eventId: 'evt_7' })).toEqual([7]);
    expect(await list({ ruleId: 'rule_y' })).toEqual(expected((e) => !!e.ruleIds?.includes('rule_y')));
    expect(await list({ ruleId: 'rule_x' })).toEqual([11, 7, 3]);
    expect(await list({ ruleId: 'rule' })).toEqual([]);
    expect(await list({ from: T0 + 3000, to: T0 + 7000 })).toEqual([6, 5, 4, 3]);
    expect(
      await list({
        from: T0 + 3000,
        to: T0 + 7000,
        conversationId: 'conv-1',
        kinds: ['rule.updated', 'patch.applied'],
      }),
    ).toEqual([5, 3]);
    expect(await list({ eventId: 'evt_100' })).toEqual([]);
  });

  it('pages with the keyset cursor: every row once, newest first, `more` until the last page', async () => {
    const seen: number[] = [];
    let before: string | undefined;
    const mores: boolean[] = [];
    for (;;) {
      const page = await b.store.audit.list('org-a', { limit: 5, before, kinds: [...KINDS] });
      seen.push(...page.items.map(n));
      mores.push(page.more);
      if (!page.more) break;
      before = page.items.at(-1)!.id;
    }
    expect(seen).toEqual(expected(() => true));
    expect(mores).toEqual([true, true, false]);
    const filtered = await b.store.audit.list('org-a', { limit: 2, outcome: 'applied' });
    expect(filtered.items.map(n)).toEqual([11, 10]);
    const next = await b.store.audit.list('org-a', {
      limit: 2,
      outcome: 'applied',
      before: filtered.items[1]!.id,
    });
    expect(next.items.map(n)).toEqual([8, 7]);
  });

  it('exports oldest first in pages after a row, rows as stored', async () => {
    const seen: number[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await b.store.audit.exportPage('org-a', { conversationId: 'conv-1' }, after, 4);
      // Tuples in ExportRow order: [id, at, kind, actor, sourceId, eventId, ruleIds, …, detail, seq, hash].
      seen.push(...page.map((r) => JSON.parse(r[10]!).i as number));
      if (page.length < 4) break;
      after = page.at(-1)![0];
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    const [row] = await b.store.audit.exportPage('org-a', { eventId: 'evt_5' }, undefined, 10);
    const [, at, kind, actor, , , ruleIds, , , , detail, seq] = row!;
    expect({ at, kind, actor, ruleIds, detail, seq }).toEqual({
      at: T0 + 5000,
      kind: 'patch.applied',
      actor: JSON.stringify({ type: 'source', id: 'src_1' }),
      ruleIds: JSON.stringify(['rule_y']),
      detail: JSON.stringify({ i: 5 }),
      seq: 6,
    });
    expect(await b.store.audit.exportPage('org-a', { from: T0 + 10_000 }, undefined, 10)).toHaveLength(2);
  });

  it('reads the chain: heads, rows by seq, pages that verify, anchors in time', async () => {
    const c = b.store.chain;
    const head = await c.head('org-a');
    expect(head?.seq).toBe(12);
    expect(await c.head('org-none')).toBeUndefined();
    expect((await c.heads()).map((h) => [h.orgId, h.seq]).sort()).toEqual([
      ['org-a', 12],
      ['org-b', 3],
    ]);
    expect(await c.rowAt('org-a', 12)).toEqual(head);
    expect(await c.rowAt('org-a', 13)).toBeUndefined();
    const rows = [...(await c.chainPage('org-a', 0, 7)), ...(await c.chainPage('org-a', 7, 7))];
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const walk = new ChainWalk('org-a', undefined, {}, []);
    for (const r of rows) walk.row(chainItem(r), r.hash);
    expect(walk.firstMismatch).toBeUndefined();
    expect(await c.firstSeqFrom('org-a', T0 + 4500)).toBe(6);
    expect(await c.firstSeqFrom('org-a', T0 + 60_000)).toBeUndefined();
    expect((await c.lastRowBefore('org-a', idFloor('aud', T0 + 4500)))?.seq).toBe(5);
    expect(await c.lastRowBefore('org-a', idFloor('aud', T0 - 1))).toBeUndefined();
  });

  it('keeps checkpoints: the first write of a seq wins, drops those before an anchor', async () => {
    const c = b.store.chain;
    const cp = (seq: number, signature: string) => ({
      orgId: 'org-b',
      seq,
      hash: `h${seq}`,
      at: new Date(T0 + seq).toISOString(),
      signature,
      kid: 'k1',
    });
    await c.addCheckpoint(cp(1, 'sig-1'), T0 + 1);
    await c.addCheckpoint(cp(3, 'sig-3'), T0 + 3);
    await c.addCheckpoint(cp(1, 'sig-again'), T0 + 1);
    expect(await c.checkpoints('org-b')).toEqual([cp(1, 'sig-1'), cp(3, 'sig-3')]);
    expect(await c.checkpoints('org-b', 2)).toEqual([cp(3, 'sig-3')]);
    expect(await c.checkpoints('org-a')).toEqual([]);
    await c.dropCheckpointsBefore('org-b', 3);
    expect(await c.checkpoints('org-b')).toEqual([cp(3, 'sig-3')]);
  });
});
