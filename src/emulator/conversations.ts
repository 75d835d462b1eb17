import { randomUUID } from 'node:crypto';
import {
  type ConversationInput,
  type EmulatedConversation,
  type EmulatedParticipant,
  EmulatorInputError,
  type ParticipantInput,
} from './types.js';

/** Conversations of every org, keyed by id (ids are global in Genesys, so lookups check the org). */
export class ConversationState {
  private readonly conversations = new Map<string, EmulatedConversation>();

  constructor(private readonly now: () => number) {}

  create(input: ConversationInput): EmulatedConversation {
    const id = input.id ?? randomUUID();
    if (this.conversations.has(id)) throw new EmulatorInputError(`conversation ${id} already exists`);
    const createdAt = this.now();
    const conversation: EmulatedConversation = {
      id,
      orgId: input.orgId,
      createdAt,
      visibleAt: createdAt + (input.visibleAfterMs ?? 0),
      divisionIds: [...(input.divisionIds ?? [])],
      participants: [],
    };
    for (const p of input.participants) conversation.participants.push(this.newParticipant(p));
    this.conversations.set(id, conversation);
    return structuredClone(conversation);
  }

  addParticipant(conversationId: string, input: ParticipantInput): EmulatedParticipant {
    const conversation = this.require(conversationId);
    if (conversation.participants.some((p) => p.id === input.id)) {
      throw new EmulatorInputError(`participant ${input.id} already exists`);
    }
    const participant = this.newParticipant(input);
    conversation.participants.push(participant);
    return structuredClone(participant);
  }

  /** Also ends the conversation when its last participant leaves (Conversation.endTime semantics). */
  endParticipant(conversationId: string, participantId: string): void {
    const conversation = this.require(conversationId);
    const participant = conversation.participants.find((p) => p.id === participantId);
    if (!participant) throw new EmulatorInputError(`unknown participant ${participantId}`, 404);
    participant.endTime ??= this.now();
    if (conversation.participants.every((p) => p.endTime !== undefined)) conversation.endTime ??= this.now();
  }

  endConversation(conversationId: string): void {
    const conversation = this.require(conversationId);
    const now = this.now();
    for (const p of conversation.participants) p.endTime ??= now;
    conversation.endTime ??= now;
  }

  /** A snapshot for assertions. */
  get(conversationId: string): EmulatedConversation | undefined {
    const conversation = this.conversations.get(conversationId);
    return conversation ? structuredClone(conversation) : undefined;
  }

  /** The live record as the API sees it: undefined unless it exists, is visible and is in `orgId`. */
  visible(orgId: string, conversationId: string): EmulatedConversation | undefined {
    const conversation = this.conversations.get(conversationId);
    if (!conversation || conversation.orgId !== orgId || this.now() < conversation.visibleAt)
      return undefined;
    return conversation;
  }

  private require(conversationId: string): EmulatedConversation {
    const conversation = this.conversations.get(conversationId);
    if (!conversation) throw new EmulatorInputError(`unknown conversation ${conversationId}`, 404);
    return conversation;
  }

  private newParticipant(input: ParticipantInput): EmulatedParticipant {
    const now = this.now();
    const participant: EmulatedParticipant = {
      id: input.id ?? randomUUID(),
      purpose: input.purpose,
      attributes: { ...(input.attributes ?? {}) },
      media: input.media ?? 'call',
      communicationId: randomUUID(),
      startTime: now,
    };
    if (input.name !== undefined) participant.name = input.name;
    if (input.ended) participant.endTime = now;
    return participant;
  }
}

/** The generic `Conversation` JSON of GET /api/v2/conversations/{id}. */
export function conversationJson(c: EmulatedConversation): Record<string, unknown> {
  return {
    id: c.id,
    startTime: iso(c.createdAt),
    ...(c.endTime !== undefined ? { endTime: iso(c.endTime) } : {}),
    participants: c.participants.map(participantJson),
    recordingState: 'none',
    divisions: c.divisionIds.map((id) => ({
      division: { id, selfUri: `/api/v2/authorization/divisions/${id}` },
      entities: [],
    })),
    selfUri: `/api/v2/conversations/${c.id}`,
  };
}

const MEDIA_KEY = {
  call: 'calls',
  callback: 'callbacks',
  chat: 'chats',
  email: 'emails',
  message: 'messages',
};

function participantJson(p: EmulatedParticipant): Record<string, unknown> {
  const ended = p.endTime !== undefined;
  // State lives on the communication; an ended participant's is disconnected by the client.
  const communication = {
    state: ended ? 'disconnected' : 'connected',
    id: p.communicationId,
    ...(ended ? { disconnectType: 'client', disconnectedTime: iso(p.endTime ?? 0) } : {}),
    connectedTime: iso(p.startTime),
  };
  return {
    id: p.id,
    startTime: iso(p.startTime),
    ...(ended ? { endTime: iso(p.endTime ?? 0) } : {}),
    connectedTime: iso(p.startTime),
    ...(p.name !== undefined ? { name: p.name } : {}),
    purpose: p.purpose,
    wrapupRequired: false,
    attributes: { ...p.attributes },
    [MEDIA_KEY[p.media]]: [communication],
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
