import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Sessions } from '../crypto/sessions.js';
import { cursorParam, decodeCursor, encodeCursor } from '../http/cursor.js';
import { json, problems, SESSION_SECURITY } from '../http/openapi.js';
import type { Clock } from '../lib/clock.js';
import type { Metrics } from '../ops/metrics.js';
import type { AppEnv } from '../sessions/require-session.js';
import { requireSession } from '../sessions/require-session.js';
import type { TenantStore } from '../tenants/store.js';
import type { AuditSeal } from './checkpoints.js';
import { auditExportStream, exportFileName } from './export.js';
import type { AuditStore, ChainStore } from './store.js';
import { AUDIT_KINDS } from './types.js';

const ID = /^aud_[0-9a-z]{26}$/;

const iso = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

export const AuditQuery = z.object({
  kind: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',').map((k) => k.trim()) : undefined))
    .refine((ks) => !ks || ks.every((k) => (AUDIT_KINDS as readonly string[]).includes(k)), {
      message: `kind must be a comma-separated list of: ${AUDIT_KINDS.join(', ')}`,
    })
    .openapi({ type: 'string', example: 'patch.applied,patch.failed' }),
  outcome: z.string().min(1).optional(),
  conversationId: z.string().min(1).optional(),
  ruleId: z.string().min(1).optional(),
  sourceId: z.string().min(1).optional(),
  eventId: z.string().min(1).optional(),
  from: iso.optional().openapi({ type: 'string', format: 'date-time', description: 'inclusive' }),
  to: iso.optional().openapi({ type: 'string', format: 'date-time', description: 'exclusive' }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: cursorParam(ID),
});

const ActorSchema = z.object({
  type: z.enum(['user', 'source', 'system']),
  id: z.string().optional(),
  name: z.string().optional(),
  job: z.string().optional(),
});

export const AuditItemSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    kind: z.string(),
    actor: ActorSchema,
    sourceId: z.string().nullable(),
    eventId: z.string().nullable(),
    ruleIds: z.array(z.string()),
    conversationId: z.string().nullable(),
    participantId: z.string().nullable(),
    outcome: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
    seq: z.number().int().nullable().openapi({ description: 'Its place in the org’s hash chain' }),
    hash: z.string().nullable().openapi({ description: 'SHA-256 of the previous row’s hash and this row' }),
  })
  .openapi('AuditItem');

const AuditPage = z
  .object({ items: z.array(AuditItemSchema), nextCursor: z.string().nullable() })
  .openapi('AuditPage');

const ExportQuery = AuditQuery.omit({ limit: true, cursor: true }).extend({
  format: z.enum(['ndjson', 'csv']).default('ndjson'),
});

const filterOf = (q: Omit<z.infer<typeof ExportQuery>, 'format'>) => ({
  kinds: q.kind,
  outcome: q.outcome,
  conversationId: q.conversationId,
  ruleId: q.ruleId,
  sourceId: q.sourceId,
  eventId: q.eventId,
  from: q.from,
  to: q.to,
});

const VerifyQuery = z.object({
  from: iso.optional().openapi({ type: 'string', format: 'date-time', description: 'inclusive' }),
  to: iso.optional().openapi({ type: 'string', format: 'date-time', description: 'exclusive' }),
});

const VerifyResultSchema = z
  .object({
    ok: z.boolean(),
    rows: z.number().int(),
    checkpoints: z.number().int(),
    firstMismatch: z
      .object({ seq: z.number().int().nullable(), id: z.string().nullable(), reason: z.string() })
      .optional(),
  })
  .openapi('AuditVerifyResult');

export function registerAuditRoutes(
  app: OpenAPIHono<AppEnv>,
  deps: {
    audit: AuditStore;
    auditChain: ChainStore;
    auditSeal: AuditSeal;
    sessions: Sessions;
    tenants: TenantStore;
    clock: Clock;
    metrics: Metrics;
  },
): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/public-key',
      tags: ['audit'],
      summary: 'The Ed25519 public key (JWK) that signs audit checkpoints',
      description:
        'Public: an auditor verifies an export with it (`npm run audit:verify -- FILE --key KEY`).',
      responses: { 200: json(z.record(z.string(), z.string()).openapi('PublicJwk'), 'The key') },
    }),
    (c) =>
      c.json(deps.auditSeal.publicJwk as Record<string, string>, 200, {
        'cache-control': 'public, max-age=3600',
      }),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/verify',
      tags: ['audit'],
      summary: 'Check the org’s audit hash chain and its signed checkpoints',
      description:
        'Walks the chain from its anchor (the first row, or the checkpoint of the last pruned row) and reports the first row that was altered, deleted or moved. `rows` counts the rows in [from, to).',
      security: SESSION_SECURITY,
      middleware: [requireSession(deps, 'viewer')] as const,
      request: { query: VerifyQuery },
      responses: { 200: json(VerifyResultSchema, 'The verdict'), ...problems(401, 422) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await deps.auditSeal.verify(c.get('ctx').tenant.orgId, q), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/export',
      tags: ['audit'],
      summary: 'The org’s audit log as a file, oldest first, streamed: NDJSON or CSV, same filters',
      description:
        'NDJSON: one item per line, as `GET /v1/audit` shows it. CSV (RFC 4180, CRLF, a header row): the same columns, JSON columns as JSON text; a cell a spreadsheet would run as a formula starts with an apostrophe.',
      security: SESSION_SECURITY,
      middleware: [requireSession(deps, 'viewer')] as const,
      request: { query: ExportQuery },
      responses: {
        200: {
          description: 'The file',
          content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() } },
        },
        ...problems(401, 422),
      },
    }),
    (c) => {
      const q = c.req.valid('query');
      const orgId = c.get('ctx').tenant.orgId;
      const counter = deps.metrics.auditExportedRows.labels({ format: q.format });
      // The verifier needs to know whether rows were left out (names only: values are the caller's).
      const { format: _format, from, to, ...narrowing } = c.req.query();
      const filters = { ...(from ? { from } : {}), ...(to ? { to } : {}) };
      const filteredBy = Object.keys(narrowing);
      const header = async (seq: number | null | undefined) => {
        const firstSeq = seq ?? 1;
        const anchor = firstSeq > 1 ? ((await deps.auditChain.rowAt(orgId, firstSeq - 1)) ?? null) : null;
        const checkpoints = await deps.auditChain.checkpoints(orgId, firstSeq - 1);
        return {
          chain: {
            orgId,
            range: filters,
            filteredBy,
            anchor,
            checkpoints,
            kid: deps.auditSeal.publicJwk.kid,
          },
        };
      };
      const stream = auditExportStream(
        deps.audit,
        orgId,
        filterOf(q),
        q.format,
        (n) => counter.inc(n),
        header,
      );
      const name = exportFileName(orgId, q.from, q.to, q.format);
      return new Response(stream, {
        headers: {
          'content-type':
            q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
          'content-disposition': `attachment; filename="${name}"`,
          'cache-control': 'no-store',
          'x-request-id': c.get('requestId'),
        },
      }) as never;
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit',
      tags: ['audit'],
      summary: 'The org’s audit log, newest first, keyset-paginated',
      security: SESSION_SECURITY,
      middleware: [requireSession(deps, 'viewer')] as const,
      request: { query: AuditQuery },
      responses: { 200: json(AuditPage, 'A page'), ...problems(401, 422) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await deps.audit.list(c.get('ctx').tenant.orgId, {
        ...filterOf(q),
        limit: q.limit,
        before: q.cursor === undefined ? undefined : decodeCursor(q.cursor),
      });
      const last = page.items.at(-1);
      return c.json({ items: page.items, nextCursor: page.more && last ? encodeCursor(last.id) : null }, 200);
    },
  );
}
