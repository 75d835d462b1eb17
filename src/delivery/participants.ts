import type { Conversation, Participant } from '../genesys/types.js';
import type { ParticipantSelector } from '../rules/match.js';

export type Resolution =
  | { kind: 'found'; participant: Participant }
  | { kind: 'conversation_ended' }
  | { kind: 'participant_terminated'; participantId: string }
  /** Not there (yet): the participant may still join. */
  | { kind: 'participant_not_found' };

/**
 * Which participant a delivery goes to, read at send time. Ended means `endTime` is set (the
 * conversation's or the participant's; shared/genesys §4: never read `state`). By purpose: the
 * newest participant of that purpose that has not ended; with a list of purposes, of the first
 * purpose that has one (agent-placed calls have an `external`, not a `customer`).
 */
export function resolveParticipant(conversation: Conversation, selector: ParticipantSelector): Resolution {
  if (conversation.endTime) return { kind: 'conversation_ended' };
  if ('id' in selector) {
    const p = conversation.participants.find((x) => x.id === selector.id);
    if (!p) return { kind: 'participant_not_found' };
    return p.endTime
      ? { kind: 'participant_terminated', participantId: p.id }
      : { kind: 'found', participant: p };
  }
  const purposes: readonly string[] =
    typeof selector.purpose === 'string' ? [selector.purpose] : selector.purpose;
  let ended: Participant | undefined;
  for (const purpose of purposes) {
    const ofPurpose = conversation.participants.filter((p) => p.purpose === purpose);
    const active = ofPurpose.filter((p) => !p.endTime);
    if (active.length > 0) {
      const newest = active.reduce((a, b) => ((b.startTime ?? '') > (a.startTime ?? '') ? b : a));
      return { kind: 'found', participant: newest };
    }
    ended ??= ofPurpose.at(-1);
  }
  return ended
    ? { kind: 'participant_terminated', participantId: ended.id }
    : { kind: 'participant_not_found' };
}

/** Only what differs from what the participant already has. */
export function changedAttributes(
  current: Readonly<Record<string, string>> | undefined,
  wanted: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(wanted)) if (current?.[k] !== v) out[k] = v;
  return out;
}
