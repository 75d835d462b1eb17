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

describe('PATCH participant attributes', () => {
  it('generic variant: 202 with an empty body, attributes merged', async () => {
    const conv = newConversation();
    const res = await patch(attrPath(conv.id, 'cust'), { attributes: { tier: 'gold' } });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    expect(res.headers.get('inin-correlation-id')).toBeTruthy();
    expect(h.emu.getConversation(conv.id)?.participants[0]?.attributes).toEqual({ seed: '1', tier: 'gold' });
  });

  it.each(['calls', 'callbacks', 'chats', 'emails', 'messages', 'cobrowsesessions'])(
    '%s variant: 202 with the merged attributes',
    async (media) => {
      const conv = newConversation();
      const res = await patch(attrPath(conv.id, 'cust', media), { attributes: { k: media } });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ attributes: { seed: '1', k: media } });
    },
  );

  it('messages and cobrowsesessions accept an absent body as no change; others require it', async () => {
    const conv = newConversation();
    for (const media of ['messages', 'cobrowsesessions']) {
      const res = await h.call(attrPath(conv.id, 'cust', media), { method: 'PATCH', token: org.token });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ attributes: { seed: '1' } });
    }
    const required = await h.call(attrPath(conv.id, 'cust', 'calls'), {
      method: 'PATCH',
      token: org.token,
      headers: { 'Content-Type': 'application/json' },
    });
    expect(required.status).toBe(400);
    expect(await required.json()).toMatchObject({ code: 'bad.request' });
  });

  it('415 unless Content-Type is application/json (charset allowed)', async () => {
    const conv = newConversation();
    const send = (type: string) =>
      h.call(attrPath(conv.id, 'cust'), {
        method: 'PATCH',
        token: org.token,
        headers: { 'Content-Type': type },
        body: JSON.stringify({ attributes: { a: 'b' } }),
      });
    const res = await send('text/plain');
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ code: 'unsupported.media.type', status: 415 });
    expect((await send('application/json; charset=UTF-8')).status).toBe(202);
  });

  it('400 bad.request for a non-string value, a non-object attributes, or malformed JSON', async () => {
    const conv = newConversation();
    for (const body of [{ attributes: { n: 1 } }, { attributes: ['x'] }, { attributes: null }, ['x']]) {
      const res = await patch(attrPath(conv.id, 'cust'), body);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'bad.request', status: 400 });
    }
    const malformed = await h.call(attrPath(conv.id, 'cust'), {
      method: 'PATCH',
      token: org.token,
      headers: { 'Content-Type': 'application/json' },
      body: '{"attributes":',
    });
    expect(malformed.status).toBe(400);
    expect(h.emu.getConversation(conv.id)?.participants[0]?.attributes).toEqual({ seed: '1' });
  });

  it('404 not.found for an unknown participant or another org', async () => {
    const conv = newConversation();
    const other = await h.orgWithClient('Other org');
    const unknown = await patch(attrPath(conv.id, 'ghost', 'calls'), { attributes: { a: 'b' } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'not.found' });
    expect((await patch(attrPath(conv.id, 'cust'), { attributes: { a: 'b' } }, other.token)).status).toBe(
      404,
    );
  });

  it('413 above 512000 bytes', async () => {
    const conv = newConversation();
    const res = await patch(attrPath(conv.id, 'cust'), { attributes: { big: 'x'.repeat(512_000) } });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({
      status: 413,
      code: 'request.entity.too.large',
      message: 'The request is over the size limit. Maximum bytes: 512000',
    });
  });

  it('needs no permission, only a token of the same org', async () => {
    const bare = await h.orgWithClient('Bare', []);
    const conv = h.emu.createConversation({
      orgId: bare.orgId,
      participants: [{ id: 'p', purpose: 'customer' }],
    });
    expect((await patch(attrPath(conv.id, 'p'), { attributes: { a: 'b' } }, bare.token)).status).toBe(202);
  });

  it('replace mode: the sent map replaces the old one', async () => {
    h.emu.configure({ attributeMode: 'replace' });
    const conv = newConversation();
    const res = await patch(attrPath(conv.id, 'cust', 'calls'), { attributes: { only: 'me' } });
    expect(await res.json()).toEqual({ attributes: { only: 'me' } });
    expect(h.emu.getConversation(conv.id)?.participants[0]?.attributes).toEqual({ only: 'me' });
  });

  describe('ended participant / conversation', () => {
    it('accept (default): 202 and stored', async () => {
      const conv = newConversation();
      h.emu.endParticipant(conv.id, 'cust');
      expect((await patch(attrPath(conv.id, 'cust'), { attributes: { late: 'yes' } })).status).toBe(202);
      expect(h.emu.getConversation(conv.id)?.participants[0]?.attributes.late).toBe('yes');
    });

    it('conflict: 409 conflict, nothing stored', async () => {
      h.emu.configure({ endedParticipantPatch: 'conflict' });
      const conv = newConversation();
      h.emu.endParticipant(conv.id, 'cust');
      const res = await patch(attrPath(conv.id, 'cust', 'calls'), { attributes: { late: 'yes' } });
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ code: 'conflict', status: 409 });
      expect(h.emu.getConversation(conv.id)?.participants[0]?.attributes).toEqual({ seed: '1' });
      // The other participant is still live.
      expect((await patch(attrPath(conv.id, 'agent'), { attributes: { a: 'b' } })).status).toBe(202);
    });

    it('bad_request: 400 for a participant of an ended conversation', async () => {
      h.emu.configure({ endedParticipantPatch: 'bad_request' });
      const conv = newConversation();
      h.emu.endConversation(conv.id);
      const res = await patch(attrPath(conv.id, 'agent'), { attributes: { late: 'yes' } });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'bad.request' });
    });
  });
});
