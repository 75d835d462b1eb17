import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Sessions } from '../crypto/sessions.js';
import { cursorParam, decodeCursor, encodeCursor } from '../http/cursor.js';
import { json, problems, SESSION_SECURITY } from '../http/openapi.js';
import type { Clock } from '../lib/clock.js';
import { notFound } from '../lib/errors.js';
import type { AppEnv } from '../sessions/require-session.js';
import { requireSession } from '../sessions/require-session.js';
import type { TenantStore } from '../tenants/store.js';
import type { EventDetail, EventQueries } from './store.js';

const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'evt_…' }) });
const Detail = z
  .object({
    event: z.record(z.string(), z.unknown()),
    deliveries: z.array(z.record(z.string(), z.unknown())).openapi({
      description: 'Each with `attempts`: its tries, counted as the audit counts them (a 429 is not one).',
    }),
    attempts: z.array(z.record(z.string(), z.unknown())).openapi({
      description: 'Every call to Genesys Cloud for the event, conversation reads and 429s included.',
    }),
    history: z.array(z.record(z.string(), z.unknown())),
  })
  .openapi('EventDetail');

const EVENT_ID = /^evt_[0-9a-z]{26}$/;

const ListQuery = z.object({
  sourceId: z.string().min(1).optional(),
  conversationId: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: cursorParam(EVENT_ID),
});

const Summary = z
  .object({
    id: z.string(),
    sourceId: z.string(),
    receivedAt: z.string(),
    state: z.string(),
    replays: z.number().int(),
    outcome: z.enum(['pending', 'unmatched', 'applied', 'skipped', 'retrying', 'failed', 'mixed']),
    conversationIds: z.array(z.string()),
  })
  .openapi('EventSummary');

export function registerEventRoutes(
  app: OpenAPIHono<AppEnv>,
  deps: {
    eventQueries: EventQueries;
    sessions: Sessions;
    tenants: TenantStore;
    clock: Clock;
    wakeDelivery: () => void;
  },
): void {
  const tags = ['events'];
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/events',
      tags,
      summary: 'Recent events, newest first, each with its outcome; by source or conversation',
      description:
        '`outcome`: `pending` (not processed, or deliveries queued), `unmatched`, `applied`, `skipped`, `retrying`, `failed`, or `mixed` when its deliveries ended differently. After a replay, the latest processing counts.',
      security: SESSION_SECURITY,
      middleware: [requireSession(deps, 'viewer')] as const,
      request: { query: ListQuery },
      responses: {
        200: json(
          z.object({ items: z.array(Summary), nextCursor: z.string().nullable() }),
          'A page of events',
        ),
        ...problems(401, 422),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await deps.eventQueries.list(c.get('ctx').tenant.orgId, {
        sourceId: q.sourceId,
        conversationId: q.conversationId,
        limit: q.limit,
        before: q.cursor === undefined ? undefined : decodeCursor(q.cursor),
      });
      const last = page.items.at(-1);
      return c.json({ items: page.items, nextCursor: page.more && last ? encodeCursor(last.id) : null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/events/{id}',
      tags,
      summary: 'An event, its matches, its deliveries with every attempt, and its audit history',
      security: SESSION_SECURITY,
      middleware: [requireSession(deps, 'viewer')] as const,
      request: { params: IdParam },
      responses: { 200: json(Detail, 'The event'), ...problems(401, 404) },
    }),
    async (c) => {
      const detail = await deps.eventQueries.get(c.get('ctx').tenant.orgId, c.req.valid('param').id);
      if (!detail) throw notFound('No such event in your org.');
      // Typed routes expect c.json's encoding; this JSON is built by hand (detailJson) to the same schema.
      return c.body(detailJson(detail), 200, { 'content-type': 'application/json' }) as never;
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/events/{id}/replay',
      tags,
      summary: 'Process the stored event again under today’s rules',
      security: SESSION_SECURITY,
      middleware: [requireSession(deps, 'admin')] as const,
      request: { params: IdParam },
      responses: {
        202: json(z.object({ eventId: z.string(), replay: z.number().int() }), 'Queued for processing'),
        ...problems(401, 403, 404),
      },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const id = c.req.valid('param').id;
      const replay = await deps.eventQueries.replay(ctx.tenant.orgId, id, {
        orgId: ctx.tenant.orgId,
        at: ctx.now,
        kind: 'event.replayed',
        actor: ctx.actor,
        eventId: id,
        outcome: 'queued',
        detail: {},
      });
      if (replay === undefined) throw notFound('No such event in your org.');
      deps.wakeDelivery();
      return c.json({ eventId: id, replay }, 202);
    },
  );
}

/**
 * The detail as JSON text with the stored body spliced in as received. The body was valid JSON
 * when stored; encoding it again would recurse through every level of it, and an event stored
 * before ingest limited depth may be deeper than the stack (the 20,000 nested arrays).
 */
function detailJson({ event: { bodyJson, ...event }, ...rest }: EventDetail): string {
  // Both objects always have keys, so cutting a brace and adding a member keeps valid JSON.
  const eventJson = `${JSON.stringify(event).slice(0, -1)},"body":${bodyJson}}`;
  return `{"event":${eventJson},${JSON.stringify(rest).slice(1)}`;
}
