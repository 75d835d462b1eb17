import type { AuditStore, ExportRow } from './store.js';
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
  /** NDJSON's first line: what an offline verifier needs besides the rows (given the first row's seq). */
  chainHeader?: (firstSeq: number | null | undefined) => Promise<unknown>,
): ReadableStream<Uint8Array> {
  const line = format === 'csv' ? csvLine : ndjsonLine;
  let after: string | undefined;
  let first = true;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const rows = await store.exportPage(orgId, filter, after, PAGE);
        let text = first ? await header(format, rows[0], chainHeader) : '';
        first = false;
        for (let i = 0; i < rows.length; i++) text += line(rows[i]!);
        // One chunk per page: the socket gets a few large writes, not a write per row.
        if (text) controller.enqueue(Buffer.from(text, 'utf8'));
        onRows(rows.length);
        if (rows.length < PAGE) controller.close();
        else after = rows[rows.length - 1]![0];
      },
    },
    // One page ahead at most: the socket's own buffer does the rest.
    { highWaterMark: 1 },
  );
}

async function header(
  format: ExportFormat,
  first: ExportRow | undefined,
  chainHeader: ((firstSeq: number | null | undefined) => Promise<unknown>) | undefined,
): Promise<string> {
  if (format === 'csv') return `${CSV_COLUMNS.join(',')}\r\n`;
  return chainHeader ? `${JSON.stringify(await chainHeader(first?.[11]))}\n` : '';
}

/**
 * One row as `GET /v1/audit` shows it, one JSON object per line. The JSON columns are stored as
 * JSON text and spliced in as they are: no parse and re-encode per row.
 */
export function ndjsonLine(r: ExportRow): string {
  const s = JSON.stringify;
  return `{"id":${s(r[0])},"at":"${iso(r[1])}","kind":${s(r[2])},"actor":${r[3]},"sourceId":${s(r[4])},"eventId":${s(r[5])},"ruleIds":${r[6] ?? '[]'},"conversationId":${s(r[7])},"participantId":${s(r[8])},"outcome":${s(r[9])},"detail":${r[10] ?? '{}'},"seq":${r[11]},"hash":${s(r[12])}}\n`;
}

/** RFC 4180: one record per line (CRLF), every cell neutralised and quoted as needed. */
export function csvLine(r: ExportRow): string {
  const c = csvCell;
  return `${c(r[0])},${c(iso(r[1]))},${c(r[2])},${csvJson(r[3])},${c(r[4])},${c(r[5])},${csvJson(r[6] ?? '[]')},${c(r[7])},${c(r[8])},${c(r[9])},${csvJson(r[10] ?? '{}')},${r[11] ?? ''},${c(r[12])}\r\n`;
}

/** Whether a cell needs the slow path: a formula lead, or a character that needs quoting. */
const RISKY = /^[=+\-@\t\r]|[",\r\n]/;

/**
 * A spreadsheet runs a cell starting with = + - @ (or a tab or CR before them) as a formula
 * (OWASP CSV injection): such a cell gets a leading apostrophe, which shows it as text.
 */
export function csvCell(value: string | null): string {
  if (value === null) return '';
  if (!RISKY.test(value)) return value;
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** A JSON column: an object or array always holds quotes, so it is quoted without testing. */
function csvJson(json: string): string {
  return json[0] === '{' || json[0] === '[' ? `"${json.replaceAll('"', '""')}"` : csvCell(json);
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
