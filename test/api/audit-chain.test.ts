import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, checkpointValid, deepCanonicalJson } from '../../src/audit/chain.js';
import { appendAudit, backfillChains } from '../../src/audit/store.js';
import { tempDir } from '../helpers/tmp.js';
import { install, type SeededOrg, seedOrg, session, startWorld, type World } from '../helpers/world.js';

/** Tamper evidence: any change made behind the API's back is found, on the server and offline. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let world: World;
let org: SeededOrg;
let viewer: string;

beforeEach(async () => {
  world = await startWorld();
  org = seedOrg(world, 'Acme');
  expect((await install(world, org)).status).toBe(201);
  viewer = await session(world, org.viewer);
  // 30 rows after tenant.installed (seq 1): seq 2…31.
  world.app.database.db.transaction((tx) => {
    for (let i = 0; i < 30; i++) {
      world.clock.advance(1_000);
      appendAudit(tx, {
        orgId: org.orgId,
        at: world.clock.now(),
        kind: 'patch.applied',
        actor: { type: 'system', job: `job_${i}` },
        eventId: `evt_${i}`,
        conversationId: 'conv-1',
        outcome: 'applied',
        detail: { attributes: { n: String(i) }, nested: { b: [1, { z: null, a: 'x' }] } },
      });
    }
  });
});
afterEach(() => world.close());

const sql = () => world.app.database.sqlite;
const verify = async (query = '') => {
  const res = await world.call('GET', `/v1/audit/verify${query}`, { token: viewer });
  expect(res.status).toBe(200);
  return (await res.json()) as { ok: boolean; rows: number; checkpoints: number; firstMismatch?: unknown };
};

describe('the audit hash chain', () => {
  it('an untouched log verifies; checkpoints are signed with the published key', async () => {
    expect(await verify()).toEqual({ ok: true, rows: 31, checkpoints: 0 });
    expect(await world.app.deps.auditSeal.checkpointDue()).toBe(1);
    expect(await world.app.deps.auditSeal.checkpointDue()).toBe(0); // nothing new, or too soon
    expect(await verify()).toEqual({ ok: true, rows: 31, checkpoints: 1 });
    const key = (await (
      await fetch(`${world.app.url}/v1/audit/public-key`)
    ).json()) as import('node:crypto').JsonWebKey;
    expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    const [checkpoint] = await world.app.deps.auditChain.checkpoints(org.orgId);
    expect(checkpoint).toMatchObject({ seq: 31 });
    expect(checkpointValid(key, checkpoint!)).toBe(true);
    expect(checkpointValid(key, { ...checkpoint!, seq: 30 })).toBe(false);
    const from = new Date(world.clock.now() - 9_500).toISOString();
    expect(await verify(`?from=${from}`)).toMatchObject({ ok: true, rows: 10 });
  });

  it.each([
    [
      'an altered row',
      'update audit_log set detail = \'{"attributes":{"n":"99"}}\' where seq = 10',
      10,
      /differs/,
    ],
    ['a deleted row', 'delete from audit_log where seq = 10', 11, /rows 10–10 are missing/],
    [
      'two rows swapped',
      'update audit_log set seq = -1 where seq = 10; update audit_log set seq = 10 where seq = 11; update audit_log set seq = 11 where seq = -1',
      10,
      /differs/,
    ],
    ['the newest rows deleted', 'delete from audit_log where seq > 28', 29, /rows after 28 are missing/],
    ['the first row deleted', 'delete from audit_log where seq = 1', 2, /no checkpoint anchors/],
  ])('%s is found, with the first bad row', async (_name, tamper, seq, reason) => {
    sql().exec(tamper);
    const result = await verify();
    expect(result).toMatchObject({
      ok: false,
      firstMismatch: { seq, reason: expect.stringMatching(reason) },
    });
  });

  it('a rewritten tail is found by the checkpoint that signed it, even with the head moved too', async () => {
    await world.app.deps.auditSeal.checkpointDue();
    sql().exec('delete from audit_log where seq > 25');
    sql()
      .prepare(
        'update audit_heads set seq = 25, hash = (select hash from audit_log where seq = 25 and org_id = ?)',
      )
      .run(org.orgId);
    expect(await verify()).toMatchObject({
      ok: false,
      firstMismatch: { reason: 'rows after 25 are missing' },
    });
  });

  it('rows written before the chain existed are chained once, at start', async () => {
    sql().exec('update audit_log set seq = null, hash = null');
    sql().exec('delete from audit_heads');
    expect(backfillChains(world.app.database.db)).toBe(31);
    expect(await verify()).toEqual({ ok: true, rows: 31, checkpoints: 0 });
    expect(backfillChains(world.app.database.db)).toBe(0);
  });

  it('an export verifies offline with the public key alone; an edited export does not', async () => {
    await world.app.deps.auditSeal.checkpointDue();
    const dir = tempDir('audit-verify');
    try {
      const file = `${dir.path}/audit.ndjson`;
      const keyFile = `${dir.path}/key.jwk`;
      const text = await (
        await fetch(`${world.app.url}/v1/audit/export?format=ndjson`, {
          headers: { authorization: `Bearer ${viewer}` },
        })
      ).text();
      writeFileSync(file, text);
      writeFileSync(keyFile, await (await fetch(`${world.app.url}/v1/audit/public-key`)).text());
      const run = () =>
        spawnSync(process.execPath, ['--import', 'tsx', 'src/audit/verify-cli.ts', file, '--key', keyFile], {
          cwd: ROOT,
          encoding: 'utf8',
        });
      const intact = run();
      expect(intact.status, intact.stderr).toBe(0);
      expect(JSON.parse(intact.stdout)).toEqual({ ok: true, rows: 31, checkpoints: 1 });

      writeFileSync(file, text.replace('"n":"7"', '"n":"8"'));
      const edited = run();
      expect(edited.status).toBe(1);
      expect(JSON.parse(edited.stdout)).toMatchObject({ ok: false, firstMismatch: { seq: 9 } });

      const lines = text.trimEnd().split('\n');
      writeFileSync(file, [...lines.slice(0, 5), ...lines.slice(6)].join('\n'));
      expect(JSON.parse(run().stdout)).toMatchObject({ ok: false, firstMismatch: { seq: 6 } });

      const filtered = await (
        await fetch(`${world.app.url}/v1/audit/export?format=ndjson&kind=patch.applied`, {
          headers: { authorization: `Bearer ${viewer}` },
        })
      ).text();
      writeFileSync(file, filtered);
      const refused = run();
      expect([refused.status, refused.stderr.trim()]).toEqual([
        2,
        'the export is filtered by kind: only a whole log or a time range can be verified',
      ]);

      writeFileSync(file, lines.slice(0, -3).join('\n'));
      expect(JSON.parse(run().stdout)).toMatchObject({
        ok: false,
        firstMismatch: { reason: 'rows after 28 are missing' },
      });
    } finally {
      dir.cleanup();
    }
  }, 30_000);
});

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys, drops undefined, and matches JSON.stringify for everything else', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x', { d: undefined, c: 1.5e-7 }], é: '"' })).toBe(
      '{"a":[true,null,"x",{"c":1.5e-7}],"b":1,"é":"\\""}',
    );
    const deep: unknown[] = [];
    let at = deep;
    for (let i = 0; i < 100_000; i++) {
      const next: unknown[] = [];
      at.push(next);
      at = next;
    }
    expect(canonicalJson(deep).length).toBe(200_002); // 100,001 levels, no recursion
  });

  it('the fast walk and the deep walk give one answer for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(v)).toBe(deepCanonicalJson(v));
        expect(JSON.parse(canonicalJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { seed: 7, numRuns: 500 },
    );
  });
});
