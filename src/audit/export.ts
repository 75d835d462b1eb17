import type { AuditRow, AuditStore } from './store.js';
import type { AuditFilter } from './types.js';

export type ExportFormat = 'ndjson' | 'csv';

/** Rows per read: one short indexed query, so the export never holds the database for long. */
const PAGE = 1_000;

export const CSV_COLUMNS = [
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
] as const;

/**
 * The org's audit rows matching `filter`, oldest first, as a byte stream pulled by the client:
 * a page is read only when the socket wants more (constant memory, any size), and a client that
 * goes away cancels it, which stops the reads at once.
 */
export function auditExportStream(
  store: AuditStore,
  orgId: string,
  filter: Omit<AuditFilter, 'limit' | 'before'>,
  format: ExportFormat,
  onRows: (n: number) => void = () => undefined,
  /** NDJSON's first line: what an offline verifier needs besides the rows (given the first row). */
  chainHeader?: (first: AuditRow | undefined) => Promise<unknown>,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after: string | undefined;
  let headerSent = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const rows = await store.exportPage(orgId, filter, after, PAGE);
        let text = '';
        if (!headerSent && format === 'csv') text = `${CSV_COLUMNS.join(',')}\r\n`;
        if (!headerSent && format === 'ndjson' && chainHeader) {
          text = `${JSON.stringify(await chainHeader(rows[0]))}\n`;
        }
        headerSent = true;
        for (const r of rows) text += format === 'csv' ? csvLine(r) : ndjsonLine(r);
        if (text) controller.enqueue(encoder.encode(text));
        onRows(rows.length);
        if (rows.length < PAGE) controller.close();
        else after = rows.at(-1)!.id;
      },
    },
    // One page ahead at most: the socket's own buffer does the rest.
    { highWaterMark: 1 },
  );
}

/**
 * One row as `GET /v1/audit` shows it, one JSON object per line. The JSON columns are stored as
 * JSON text and spliced in as they are: no parse and re-encode per row.
 */
export function ndjsonLine(r: AuditRow): string {
  const s = JSON.stringify;
  return `{"id":${s(r.id)},"at":${s(iso(r.at))},"kind":${s(r.kind)},"actor":${r.actor},"sourceId":${s(r.sourceId)},"eventId":${s(r.eventId)},"ruleIds":${r.ruleIds ?? '[]'},"conversationId":${s(r.conversationId)},"participantId":${s(r.participantId)},"outcome":${s(r.outcome)},"detail":${r.detail ?? '{}'},"seq":${s(r.seq)},"hash":${s(r.hash)}}\n`;
}

/** RFC 4180: one record per line (CRLF), every cell neutralised and quoted as needed. */
export function csvLine(r: AuditRow): string {
  const cells = [
    r.id,
    iso(r.at),
    r.kind,
    r.actor,
    r.sourceId,
    r.eventId,
    r.ruleIds ?? '[]',
    r.conversationId,
    r.participantId,
    r.outcome,
    r.detail ?? '{}',
    r.seq === null ? null : String(r.seq),
    r.hash,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/**
 * A spreadsheet runs a cell starting with = + - @ (or a tab or CR before them) as a formula
 * (OWASP CSV injection): such a cell gets a leading apostrophe, which shows it as text.
 */
export function csvCell(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** `audit-<org>-<from>-<to>.<ext>`, with `start`/`now` for an open range. */
export function exportFileName(
  orgId: string,
  from: number | undefined,
  to: number | undefined,
  format: ExportFormat,
) {
  const day = (ms: number) =>
    new Date(ms)
      .toISOString()
      .replaceAll(':', '')
      .replace(/\.\d{3}Z$/, 'Z');
  const range = `${from === undefined ? 'start' : day(from)}-${to === undefined ? 'now' : day(to)}`;
  return `audit-${orgId}-${range}.${format === 'csv' ? 'csv' : 'ndjson'}`;
}

const iso = (ms: number) => new Date(ms).toISOString();
