import type { PatchRow } from './store.js';

/** Where a value came from. */
export interface Origin {
  value: string;
  at: string;
  eventId: string | null;
  sourceId: string | null;
  rule: { ruleId: string; version: number } | null;
  delivery: string | null;
  correlationId: string | null;
}

export interface AttributeLineage extends Origin {
  name: string;
  /** Earlier values we sent, newest first. */
  history: Origin[];
}

export interface ParticipantLineage {
  participantId: string | null;
  attributes: AttributeLineage[];
  /** Every delivery outcome for the participant, newest first: applied, folded, skipped. */
  events: Array<{
    eventId: string | null;
    at: string;
    outcome: string;
    attributes?: Record<string, string>;
    foldedInto?: string;
    supersededBy?: string[];
  }>;
}

interface Detail {
  attributes?: Record<string, string>;
  from?: Record<string, { ruleId: string; version: number }>;
  rules?: Array<{ ruleId: string; version: number }>;
  delivery?: string;
  foldedInto?: string;
  supersededBy?: string[];
  correlationId?: string;
}

/**
 * Pure: the conversation's patch.* rows (newest first) → per participant, each attribute's last
 * value we sent with its event, source, rule and version, delivery and correlation id, and the
 * values before it. Rows written before rules were named per attribute fall back to the row's
 * only rule, or none.
 */
export function lineageOf(rows: readonly PatchRow[]): ParticipantLineage[] {
  const byParticipant = new Map<string | null, ParticipantLineage>();
  for (const r of rows) {
    const p = byParticipant.get(r.participantId) ?? {
      participantId: r.participantId,
      attributes: [],
      events: [],
    };
    byParticipant.set(r.participantId, p);
    const d = (r.detail ? JSON.parse(r.detail) : {}) as Detail;
    const at = new Date(r.at).toISOString();
    p.events.push({
      eventId: r.eventId,
      at,
      outcome: r.outcome ?? r.kind,
      ...(r.kind === 'patch.applied' && d.attributes ? { attributes: d.attributes } : {}),
      ...(d.foldedInto ? { foldedInto: d.foldedInto } : {}),
      ...(d.supersededBy ? { supersededBy: d.supersededBy } : {}),
    });
    if (r.kind !== 'patch.applied') continue;
    const job = (JSON.parse(r.actor) as { job?: string }).job ?? null;
    for (const [name, value] of Object.entries(d.attributes ?? {})) {
      const origin: Origin = {
        value,
        at,
        eventId: r.eventId,
        sourceId: r.sourceId,
        rule: d.from?.[name] ?? (d.rules?.length === 1 ? d.rules[0]! : null),
        delivery: d.delivery ?? job,
        correlationId: d.correlationId ?? null,
      };
      const known = p.attributes.find((a) => a.name === name);
      if (known) known.history.push(origin);
      else p.attributes.push({ name, ...origin, history: [] });
    }
  }
  return [...byParticipant.values()];
}
