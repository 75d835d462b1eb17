import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attrPath, type Harness, startEmulator, twoPartyConversation } from './harness.js';

let h: Harness;
let org: { orgId: string; token: string };

beforeAll(async () => {
  h = await startEmulator();
  org = await h.orgWithClient('Acme');
});
afterAll(() => h.close());
beforeEach(() => h.emu.configure({ attributeMode: 'merge', endedParticipantPatch: 'accept' }));

const newConversation = (opts: { visibleAfterMs?: number } = {}) => twoPartyConversation(h, org.orgId, opts);

function patch(path: string, json: unknown, token = org.token) {
  return h.call(path, { method: 'PATCH', token, json });
}

describe('GET /api/v2/conversations/{id}', () => {
  it('returns the generic Conversation shape', async () => {
    const conv = newConversation();
    const res = await h.call(`/api/v2/conversations/${conv.id}`, { token: org.token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & { participants: Record<string, unknown>[] };
    expect(body).toMatchObject({
      id: conv.id,
      startTime: new Date(h.clock.now()).toISOString(),
      divisions: [{ division: { id: expect.any(String), selfUri: expect.any(String) }, entities: [] }],
    });
    expect(body.selfUri).toBe(`/api/v2/conversations/${conv.id}`);
    expect(body).not.toHaveProperty('endTime');
    expect(body).not.toHaveProperty('state');
    const [cust, agent] = body.participants;
    expect(cust).toMatchObject({
      id: 'cust',
      purpose: 'customer',
      name: 'Caller',
      attributes: { seed: '1' },
    });
    expect(cust).toMatchObject({
      startTime: expect.any(String),
      calls: [{ id: expect.any(String), state: 'connected' }],
    });
    expect(cust).not.toHaveProperty('endTime');
    expect(agent).toMatchObject({
      id: 'agent',
      purpose: 'agent',
      attributes: {},
      chats: [{ state: 'connected' }],
    });
    expect(agent).not.toHaveProperty('calls');
  });

  it('shows endTime and disconnected communications once ended', async () => {
    const conv = newConversation();
    h.emu.endParticipant(conv.id, 'cust');
    let body = (await (await h.call(`/api/v2/conversations/${conv.id}`, { token: org.token })).json()) as {
      endTime?: string;
      participants: Record<string, unknown>[];
    };
    expect(body.endTime).toBeUndefined();
    expect(body.participants[0]).toMatchObject({
      endTime: expect.any(String),
      calls: [{ state: 'disconnected', disconnectType: 'client' }],
    });
    h.clock.advance(5_000);
    h.emu.endConversation(conv.id);
    body = (await (
      await h.call(`/api/v2/conversations/${conv.id}`, { token: org.token })
    ).json()) as typeof body;
    expect(body.endTime).toBe(new Date(h.clock.now()).toISOString());
    expect(body.participants[1]).toMatchObject({ endTime: body.endTime, chats: [{ state: 'disconnected' }] });
    expect(h.emu.getConversation(conv.id)?.endTime).toBe(h.clock.now());
  });

  it('ending the last participant ends the conversation', async () => {
    const conv = newConversation();
    h.emu.endParticipant(conv.id, 'cust');
    h.emu.endParticipant(conv.id, 'agent');
    expect(h.emu.getConversation(conv.id)?.endTime).toBe(h.clock.now());
  });

  it('403 missing.any.permissions without conversation:communication:view', async () => {
    const other = await h.orgWithClient('NoPerms', []);
    const res = await h.call('/api/v2/conversations/whatever', { token: other.token });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe('missing.any.permissions');
    expect(body.message).toContain('conversation:communication:view');
  });

  it('a wildcard permission (*:*:*) grants it', async () => {
    const admin = await h.orgWithClient('Admin', ['*:*:*']);
    const conv = h.emu.createConversation({ orgId: admin.orgId, participants: [] });
    expect((await h.call(`/api/v2/conversations/${conv.id}`, { token: admin.token })).status).toBe(200);
  });

  it('404 for unknown and other-org conversations', async () => {
    const other = await h.orgWithClient('Other');
    const conv = newConversation();
    for (const [id, token] of [
      ['nope', org.token],
      [conv.id, other.token],
    ] as const) {
      const res = await h.call(`/api/v2/conversations/${id}`, { token });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'not.found' });
    }
  });

  it('a fresh conversation is invisible (GET and PATCH 404) until visibleAfterMs has passed', async () => {
    const conv = newConversation({ visibleAfterMs: 3_000 });
    expect((await h.call(`/api/v2/conversations/${conv.id}`, { token: org.token })).status).toBe(404);
    expect((await patch(attrPath(conv.id, 'cust'), { attributes: { a: 'b' } })).status).toBe(404);
    h.clock.advance(3_000);
    expect((await h.call(`/api/v2/conversations/${conv.id}`, { token: org.token })).status).toBe(200);
    expect((await patch(attrPath(conv.id, 'cust'), { attributes: { a: 'b' } })).status).toBe(202);
  });
});
