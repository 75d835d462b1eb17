import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Sessions } from '../crypto/sessions.js';
import { json, problems, SESSION_SECURITY } from '../http/openapi.js';
import type { Clock } from '../lib/clock.js';
import type { AppEnv } from '../sessions/require-session.js';
import { requireSession } from '../sessions/require-session.js';
import type { TenantStore } from '../tenants/store.js';
import { lineageOf } from './lineage.js';
import type { LineageStore } from './store.js';

/** The newest delivery outcomes read per request: a conversation rarely has more. */
export const LINEAGE_ROWS = 5_000;

const Origin = z.object({
  value: z.string(),
  at: z.string(),
  eventId: z.string().nullable(),
  sourceId: z.string().nullable(),
  rule: z.object({ ruleId: z.string(), version: z.number().int() }).nullable(),
  delivery: z.string().nullable(),
  correlationId: z.string().nullable(),
});
const Lineage = z
  .object({
    participants: z.array(
      z.object({
        participantId: z.string().nullable(),
        attributes: z.array(Origin.extend({ name: z.string(), history: z.array(Origin) })),
        events: z.array(
          z.object({
            eventId: z.string().nullable(),
            at: z.string(),
            outcome: z.string(),
            attributes: z.record(z.string(), z.string()).optional(),
            foldedInto: z.string().optional(),
            supersededBy: z.array(z.string()).optional(),
          }),
        ),
      }),
    ),
  })
  .openapi('Lineage');

export function registerLineageRoute(
  app: OpenAPIHono<AppEnv>,
  deps: { lineage: LineageStore; sessions: Sessions; tenants: TenantStore; clock: Clock },
): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/lineage',
      tags: ['audit'],
      summary: 'Why a participant has a value: each attribute we wrote, by which event, source and rule',
      description: `Per participant of the conversation: each attribute's last value we sent (event, source, rule and version, delivery, Genesys correlation id) with the values before it, and every delivery outcome (applied, folded, superseded, skipped), newest first. Reads the newest ${LINEAGE_ROWS} outcomes.`,
      security: SESSION_SECURITY,
      middleware: [requireSession(deps, 'viewer')] as const,
      request: {
        query: z.object({
          conversationId: z.string().min(1).max(200),
          participantId: z.string().min(1).max(200).optional(),
        }),
      },
      responses: { 200: json(Lineage, 'The lineage'), ...problems(401, 422) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await deps.lineage.patches(
        c.get('ctx').tenant.orgId,
        q.conversationId,
        q.participantId,
        LINEAGE_ROWS,
      );
      return c.json({ participants: lineageOf(rows) }, 200);
    },
  );
}
