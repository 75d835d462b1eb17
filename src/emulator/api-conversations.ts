import type { Context, Hono } from 'hono';
import { readJson } from './body.js';
import { conversationJson } from './conversations.js';
import type { EmuEnv, EmulatorCore } from './core.js';
import { apiError, jsonResponse, missingAnyPermissions } from './errors.js';
import { tokenOf } from './pipeline.js';
import type { EmulatedConversation, EmulatedParticipant } from './types.js';

const VIEW = 'conversation:communication:view';

/** Media-specific PATCH variants; the last two mark their body optional in the Swagger (facts §3). */
const MEDIA_PATHS = ['calls', 'callbacks', 'chats', 'emails', 'messages', 'cobrowsesessions'] as const;
const BODY_OPTIONAL = new Set<string>(['messages', 'cobrowsesessions']);

export function registerConversations(app: Hono<EmuEnv>, core: EmulatorCore): void {
  app.get('/api/v2/conversations/:conversationId', (c) => {
    const rec = tokenOf(c);
    if (!core.identity.tokenHolds(rec, VIEW)) return missingAnyPermissions(c, [VIEW]);
    const conversation = core.conversations.visible(rec.orgId, c.req.param('conversationId'));
    if (!conversation) return apiError(c, 404);
    if (!core.identity.tokenHolds(rec, VIEW, conversation.divisionIds)) return divisionRefused(c, core);
    return jsonResponse(200, conversationJson(conversation));
  });

  app.patch('/api/v2/conversations/:conversationId/participants/:participantId/attributes', (c) =>
    patchAttributes(c, core, undefined),
  );
  for (const media of MEDIA_PATHS) {
    app.patch(`/api/v2/conversations/${media}/:conversationId/participants/:participantId/attributes`, (c) =>
      patchAttributes(c, core, media),
    );
  }
}

/**
 * "Requires no permissions" (facts §3), but the conversation must belong to the token's org.
 * The media variant in the path is not compared with the participant's media: the real check is
 * unknown and a lenient emulator keeps that out of the way.
 */
function patchAttributes(c: Context<EmuEnv>, core: EmulatorCore, media: string | undefined): Response {
  const body = readJson(c, media !== undefined && BODY_OPTIONAL.has(media));
  if (!body.ok) return body.response;
  const attributes = parseAttributes(body.value);
  if (typeof attributes === 'string') return apiError(c, 400, 'bad.request', attributes);
  const conversation = core.conversations.visible(tokenOf(c).orgId, c.req.param('conversationId') ?? '');
  const participant = conversation?.participants.find((p) => p.id === c.req.param('participantId'));
  if (!conversation || !participant) return apiError(c, 404);
  const rec = tokenOf(c);
  if (rec.kind === 'client' && core.identity.principalRoleIds(rec, conversation.divisionIds).length === 0)
    return divisionRefused(c, core);
  const refusal = endedRefusal(c, core, conversation, participant);
  if (refusal) return refusal;
  if (attributes) {
    participant.attributes =
      core.options.attributeMode === 'replace'
        ? { ...attributes }
        : { ...participant.attributes, ...attributes };
  }
  // Generic variant: 202 with no body; media variants: 202 + ParticipantAttributes (the merged map).
  if (media === undefined) return new Response(null, { status: 202 });
  return jsonResponse(202, { attributes: { ...participant.attributes } });
}

/**
 * A client-credentials grant is scoped to the divisions of its roles (Home by default, §12.1).
 * Whether Genesys then answers 403 or hides the conversation with a 404 is unknown: configurable.
 */
function divisionRefused(c: Context<EmuEnv>, core: EmulatorCore): Response {
  if (core.options.divisionRefusal === 404) return apiError(c, 404);
  return apiError(c, 403, 'not.authorized', 'You are not authorized to perform the requested action.');
}

/** `{attributes?: {string: string}}` → the map (undefined = no change), or an error message. */
function parseAttributes(body: unknown): Record<string, string> | undefined | string {
  if (body === undefined) return undefined;
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return 'The request body must be an object.';
  const attributes = (body as { attributes?: unknown }).attributes;
  if (attributes === undefined) return undefined;
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes)) {
    return 'attributes must be an object of string values.';
  }
  // Strict on purpose: the schema says string values; a lenient server might coerce, we catch the bug.
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value !== 'string') return `attributes.${key} must be a string.`;
  }
  return attributes as Record<string, string>;
}

/** What the real platform does here is undocumented (facts §4), hence configurable. */
function endedRefusal(
  c: Context<EmuEnv>,
  core: EmulatorCore,
  conversation: EmulatedConversation,
  participant: EmulatedParticipant,
): Response | undefined {
  if (participant.endTime === undefined && conversation.endTime === undefined) return undefined;
  switch (core.options.endedParticipantPatch) {
    case 'accept':
      return undefined;
    case 'conflict':
      return apiError(c, 409, 'conflict', 'The participant has already disconnected from the conversation.');
    case 'bad_request':
      return apiError(
        c,
        400,
        'bad.request',
        'The participant has already disconnected from the conversation.',
      );
  }
}
