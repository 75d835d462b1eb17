import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell } from '../../src/audit/export.js';
import { chainedRow } from '../../src/audit/store.js';
import type { AuditEntry } from '../../src/audit/types.js';
import { install, type SeededOrg, seedOrg, session, startWorld, type World } from '../helpers/world.js';

/**
 * GET /v1/audit/export against 200,000 rows: the file is the query's rows oldest first, line for
 * line; a reader that stops reading or goes away stops the reads.
 */
const ROWS = 200_000;
const INJECTION = "=cmd|' /C calc'!A0";

let world: World;
let org: SeededOrg;
let other: SeededOrg;
let viewer: string;

beforeAll(async () => {
  world = await startWorld();
  org = seedOrg(world, 'Acme');
  other = seedOrg(world, 'Other');
  expect((await install(world, org)).status).toBe(201);
  expect((await install(world, other)).status).toBe(201);
  viewer = await session(world, org.viewer);
  const base = world.clock.now();
  await seedAudit(
    Array.from({ length: ROWS }, (_, i) => ({
      orgId: i % 10 === 9 ? other.orgId : org.orgId,
      at: base + 1 + Math.floor(i / 10),
      kind: i % 3 === 0 ? 'patch.skipped' : 'patch.applied',
      actor: { type: 'system', job: `job_${i}` },
      eventId: `evt_${i}`,
      ruleIds: ['rule_a'],
      conversationId: `conv-${i % 7}`,
      outcome: i === 4 ? INJECTION : 'applied',
      detail: { attributes: { n: String(i), note: 'a "quoted", multi\nline value' } },
    })),
  );
}, 60_000);
afterAll(() => world.close());

/**
 * Rows chained onto their orgs' heads as the stores chain them (`chainedRow`), written 500 to an
 * insert on either backend: one append per row would take minutes on PostgreSQL.
 */
async function seedAudit(entries: AuditEntry[]): Promise<void> {
  const heads = new Map<string, { seq: number; hash: string }>();
  const current = await world.app.all<{ org_id: string; seq: number; hash: string }>(
    'select org_id, seq, hash from audit_heads',
  );
  for (const h of current) heads.set(h.org_id, { seq: h.seq, hash: h.hash });
  const columns =
    'id, org_id, at, kind, actor, source_id, event_id, rule_ids, conversation_id, participant_id, outcome, detail, seq, hash';
  for (let i = 0; i < entries.length; i += 500) {
    const rows = entries.slice(i, i + 500).map((e) => {
      const row = chainedRow(e, heads.get(e.orgId));
      heads.set(e.orgId, { seq: row.seq, hash: row.hash });
      return row;
    });
    await world.app.run(
      `insert into audit_log (${columns}) values ${rows.map(() => `(${Array(14).fill('?').join(', ')})`).join(', ')}`,
      ...rows.flatMap((r) => [
        r.id,
        r.orgId,
        r.at,
        r.kind,
        r.actor,
        r.sourceId,
        r.eventId,
        r.ruleIds,
        r.conversationId,
        r.participantId,
        r.outcome,
        r.detail,
        r.seq,
        r.hash,
      ]),
    );
  }
  for (const [orgId, head] of heads) {
    await world.app.run(
      `insert into audit_heads (org_id, seq, hash) values (?, ?, ?)
       on conflict (org_id) do update set seq = excluded.seq, hash = excluded.hash`,
      orgId,
      head.seq,
      head.hash,
    );
  }
}

const exportUrl = (query: string) => `${world.app.url}/v1/audit/export${query}`;
const get = (query: string, init: RequestInit = {}) =>
  fetch(exportUrl(query), { ...init, headers: { authorization: `Bearer ${viewer}` } });

async function allPages(query: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const res = await world.call('GET', `/v1/audit?limit=500${query}${cursor ? `&cursor=${cursor}` : ''}`, {
      token: viewer,
    });
    const page = (await res.json()) as { items: unknown[]; nextCursor: string | null };
    items.push(...page.items);
    cursor = page.nextCursor;
  }
  return items.reverse();
}

const exportedRows = async () => {
  const text = await (await fetch(`${world.app.url}/metrics`)).text();
  return [...text.matchAll(/^relay_audit_exported_rows_total\{format="\w+"\} (\d+)/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
};

describe('GET /v1/audit/export', () => {
  it('NDJSON: every row of the org, oldest first, line for line what GET /v1/audit pages show', async () => {
    const res = await get('?format=ndjson');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="audit-${org.orgId}-start-now.ndjson"`,
    );
    const [header, ...lines] = (await res.text()).trimEnd().split('\n');
    // First what an offline verifier needs besides the rows: the chain's anchor and checkpoints.
    expect(JSON.parse(header!)).toEqual({
      chain: {
        orgId: org.orgId,
        range: {},
        filteredBy: [],
        anchor: null,
        checkpoints: [],
        kid: expect.any(String),
      },
    });
    const expected = await allPages('');
    expect(lines.length).toBe(expected.length);
    expect(lines.length).toBe(ROWS * 0.9 + 1); // and the install row; none of the other org's
    lines.forEach((line, i) => {
      expect(JSON.parse(line), `line ${i + 1}`).toEqual(expected[i]);
    });
  }, 60_000);

  it('CSV: a header and one RFC 4180 record per row, formula cells neutralised, same filters', async () => {
    const res = await get('?format=csv&kind=patch.skipped&conversationId=conv-3');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const text = await res.text();
    const records = parseCsv(text);
    expect(records[0]).toEqual([
      'id',
      'at',
      'kind',
      'actor',
      'sourceId',
      'eventId',
      'ruleIds',
      'conversationId',
      'participantId',
      'outcome',
      'detail',
      'seq',
      'hash',
    ]);
    const expected = (await allPages('&kind=patch.skipped&conversationId=conv-3')) as Array<{
      id: string;
      detail: unknown;
    }>;
    expect(records.slice(1).map((r) => r[0])).toEqual(expected.map((e) => e.id));
    expect(JSON.parse(records[1]![10]!)).toEqual(expected[0]!.detail);
    expect(records.slice(1).every((r) => r[2] === 'patch.skipped' && r[7] === 'conv-3')).toBe(true);
  }, 60_000);

  it('a cell a spreadsheet would run as a formula comes out as text', async () => {
    const text = await (await get('?format=csv&eventId=evt_4')).text();
    expect(parseCsv(text)[1]![9]).toBe(`'${INJECTION}`);
    for (const lead of ['=', '+', '-', '@', '\t', '\r']) expect(csvCell(`${lead}1+1`)).toMatch(/^"?'/);
    expect(csvCell('plain')).toBe('plain');
    // The fast path for plain cells answers as the full rule does, for any string.
    const rule = (v: string) => {
      const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
      return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
    };
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', '"', ',', 'a', ' ') }),
        (v) => csvCell(v) === rule(v),
      ),
    );
  });

  it('a reader that stops reading is not read ahead of; one that goes away stops the query', async () => {
    const before = await exportedRows();
    const controller = new AbortController();
    const res = await get('?format=ndjson', { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    // Paused: the server fills the socket's buffers and then waits.
    const settled = async () => {
      let last = -1;
      await expect
        .poll(
          async () => {
            const now = await exportedRows();
            const stable = now === last;
            last = now;
            return stable;
          },
          { interval: 200, timeout: 10_000 },
        )
        .toBe(true);
      return last - before;
    };
    const paused = await settled();
    expect(paused).toBeLessThan(ROWS / 2);
    controller.abort();
    await reader.cancel().catch(() => undefined);
    expect(await settled()).toBeLessThan(ROWS / 2);
  }, 30_000);

  it('answers 422 for a bad format or filter, 401 without a session; isolated per org', async () => {
    expect((await get('?format=xml')).status).toBe(422);
    expect((await get('?from=yesterday')).status).toBe(422);
    expect((await fetch(exportUrl(''))).status).toBe(401);
    const otherViewer = await session(world, other.viewer);
    const text = await (
      await fetch(exportUrl('?eventId=evt_0'), { headers: { authorization: `Bearer ${otherViewer}` } })
    ).text();
    expect(text.trimEnd().split('\n')).toHaveLength(1); // the chain line, and no row of ours
  });
});

/** A small RFC 4180 reader for the test (quoted cells, doubled quotes, CRLF records). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let cell = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  return records;
}
