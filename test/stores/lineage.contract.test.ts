import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditPg } from '../../src/audit/pg-store.js';
import { appendAudit } from '../../src/audit/store.js';
import type { AuditEntry } from '../../src/audit/types.js';
import { pgLineageStore } from '../../src/lineage/pg-store.js';
import { type LineageStore, sqliteLineageStore } from '../../src/lineage/store.js';
import { backends, type OnBackend } from './backends.js';

/** Audit ids never go back in one process (`newId`): each backend's rows get an hour of their own. */
let T0 = Date.parse('2026-11-25T12:00:00Z') - 3_600_000;

interface Lineage {
  lineage: LineageStore;
  append(entry: AuditEntry): Promise<void>;
}

describe.each(
  backends<Lineage>(
    (d) => ({
      lineage: sqliteLineageStore(d.sqlite),
      append: async (e) => {
        d.db.transaction((tx) => appendAudit(tx, e));
      },
    }),
    (d) => ({
      lineage: pgLineageStore(d.db),
      append: async (e) => {
        await d.db.transaction((tx) => appendAuditPg(tx, e));
      },
    }),
  ),
)('LineageStore on %s', (_name, open) => {
  let b: OnBackend<Lineage>;
  beforeAll(async () => {
    T0 += 3_600_000;
    b = await open();
    const rows: Array<[AuditEntry['kind'], string, string, string]> = [
      ['event.received', 'org-a', 'conv-1', 'p1'],
      ['patch.applied', 'org-a', 'conv-1', 'p1'],
      ['patch.retrying', 'org-a', 'conv-1', 'p1'],
      ['patch.skipped', 'org-a', 'conv-1', 'p2'],
      ['patch.applied', 'org-a', 'conv-2', 'p1'],
      ['patch.applied', 'org-b', 'conv-1', 'p1'],
      ['patch.applied', 'org-a', 'conv-1', 'p2'],
    ];
    let i = 0;
    for (const [kind, orgId, conversationId, participantId] of rows) {
      await b.store.append({
        orgId,
        at: T0 + i * 1000,
        kind,
        actor: { type: 'system', job: `job_${i}` },
        sourceId: 'src_1',
        eventId: `evt_${i}`,
        conversationId,
        participantId,
        outcome: kind === 'patch.skipped' ? 'unchanged' : 'applied',
        detail: i === 3 ? undefined : { i },
      });
      i++;
    }
  });
  afterAll(() => b?.close());

  it("returns the conversation's patch outcomes, newest first, in its org only", async () => {
    const rows = await b.store.lineage.patches('org-a', 'conv-1', undefined, 10);
    expect(rows.map((r) => r.eventId)).toEqual(['evt_6', 'evt_3', 'evt_1']);
    expect(rows[1]).toEqual({
      id: expect.stringMatching(/^aud_/),
      at: T0 + 3000,
      kind: 'patch.skipped',
      eventId: 'evt_3',
      sourceId: 'src_1',
      participantId: 'p2',
      outcome: 'unchanged',
      actor: JSON.stringify({ type: 'system', job: 'job_3' }),
      detail: null,
    });
    expect(rows[2]?.detail).toBe(JSON.stringify({ i: 1 }));
  });

  it('narrows to one participant and stops at the limit', async () => {
    expect((await b.store.lineage.patches('org-a', 'conv-1', 'p2', 10)).map((r) => r.eventId)).toEqual([
      'evt_6',
      'evt_3',
    ]);
    expect((await b.store.lineage.patches('org-a', 'conv-1', undefined, 1)).map((r) => r.eventId)).toEqual([
      'evt_6',
    ]);
    expect(await b.store.lineage.patches('org-a', 'conv-9', undefined, 10)).toEqual([]);
    expect((await b.store.lineage.patches('org-b', 'conv-1', 'p1', 10)).map((r) => r.eventId)).toEqual([
      'evt_5',
    ]);
  });
});
