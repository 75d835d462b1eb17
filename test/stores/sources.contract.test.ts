import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/types.js';
import { pgSourceStore } from '../../src/sources/pg-store.js';
import { type Source, type SourceStore, sqliteSourceStore } from '../../src/sources/store.js';
import { backends, type OnBackend } from './backends.js';

const T0 = Date.parse('2026-11-25T12:00:00Z');
const audit = (orgId: string, kind: AuditEntry['kind'], sourceId: string): AuditEntry => ({
  orgId,
  at: T0,
  kind,
  actor: { type: 'user', id: 'u1', name: 'Ada' },
  sourceId,
});
const source = (orgId: string, id: string): Source => ({
  id,
  orgId,
  name: `Source ${id}`,
  auth: 'standard-webhooks',
  secretSealed: `jwe-${id}`,
  previousSecretSealed: null,
  previousValidUntil: null,
  createdAt: T0,
  rotatedAt: null,
});

describe.each(
  backends(
    (d) => sqliteSourceStore(d.db),
    (d) => pgSourceStore(d.db),
  ),
)('SourceStore on %s', (_name, open) => {
  let b: OnBackend<SourceStore>;
  beforeAll(async () => {
    b = await open();
  });
  afterAll(() => b?.close());

  const kinds = async (orgId: string) =>
    (
      await b.all<{ kind: string; source_id: string }>(
        'select kind, source_id from audit_log where org_id = ? order by seq',
        orgId,
      )
    ).map((r) => `${r.kind} ${r.source_id}`);

  it('creates, lists in id order and reads only inside the org (ingest reads by id alone)', async () => {
    const s = b.store;
    await s.create(source('org-a', 'src_b'), audit('org-a', 'source.created', 'src_b'));
    await s.create(source('org-a', 'src_a'), audit('org-a', 'source.created', 'src_a'));
    await s.create(source('org-b', 'src_c'), audit('org-b', 'source.created', 'src_c'));
    expect((await s.list('org-a')).map((r) => r.id)).toEqual(['src_a', 'src_b']);
    expect(await s.get('org-a', 'src_a')).toEqual(source('org-a', 'src_a'));
    expect(await s.get('org-b', 'src_a')).toBeUndefined();
    expect(await s.getForIngest('src_c')).toEqual(source('org-b', 'src_c'));
    expect(await s.getForIngest('src_nope')).toBeUndefined();
    expect(await kinds('org-a')).toEqual(['source.created src_b', 'source.created src_a']);
    // A duplicate id fails and writes no audit row.
    await expect(
      s.create(source('org-a', 'src_a'), audit('org-a', 'source.created', 'src_a')),
    ).rejects.toThrow();
    expect(await kinds('org-a')).toHaveLength(2);
  });

  it('rotates the secret, keeping the previous one until its time, only in the org', async () => {
    const s = b.store;
    await s.create(source('org-r', 'src_r'), audit('org-r', 'source.created', 'src_r'));
    const secrets = {
      secretSealed: 'jwe-new',
      previousSecretSealed: 'jwe-src_r',
      previousValidUntil: T0 + 86_400_000,
      rotatedAt: T0 + 5,
    };
    await s.rotate('org-r', 'src_r', secrets, audit('org-r', 'source.rotated', 'src_r'));
    await s.rotate(
      'org-other',
      'src_r',
      { ...secrets, secretSealed: 'stolen' },
      audit('org-other', 'source.rotated', 'src_r'),
    );
    expect(await s.get('org-r', 'src_r')).toEqual({ ...source('org-r', 'src_r'), ...secrets });
    expect(await kinds('org-r')).toEqual(['source.created src_r', 'source.rotated src_r']);
  });

  it('deletes the source and its dedup keys, not those of other sources', async () => {
    const s = b.store;
    await s.create(source('org-d', 'src_d1'), audit('org-d', 'source.created', 'src_d1'));
    await s.create(source('org-d', 'src_d2'), audit('org-d', 'source.created', 'src_d2'));
    for (const [sourceId, key] of [
      ['src_d1', 'k1'],
      ['src_d1', 'k2'],
      ['src_d2', 'k1'],
    ]) {
      await b.run(
        'insert into ingest_keys (source_id, key, org_id, event_id, expires_at) values (?, ?, ?, ?, ?)',
        sourceId,
        key,
        'org-d',
        `evt_${sourceId}_${key}`,
        T0 + 1000,
      );
    }
    await s.delete('org-d', 'src_d1', audit('org-d', 'source.deleted', 'src_d1'));
    expect(await s.get('org-d', 'src_d1')).toBeUndefined();
    expect((await s.list('org-d')).map((r) => r.id)).toEqual(['src_d2']);
    expect(
      await b.all('select source_id, key from ingest_keys where org_id = ? order by source_id, key', 'org-d'),
    ).toEqual([{ source_id: 'src_d2', key: 'k1' }]);
    expect(await kinds('org-d')).toEqual([
      'source.created src_d1',
      'source.created src_d2',
      'source.deleted src_d1',
    ]);
  });
});
