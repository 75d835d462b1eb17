import { GenesysEmulator } from '../../src/emulator/index.js';
import type { EmulatorOptions } from '../../src/emulator/types.js';
import { ManualClock } from '../helpers/clock.js';

export interface Harness {
  emu: GenesysEmulator;
  url: string;
  clock: ManualClock;
  close(): Promise<void>;
  /** fetch relative to the emulator's URL. */
  call(path: string, init?: RequestInit & { token?: string; json?: unknown }): Promise<Response>;
  /** Client-credentials login; returns the access token (throws unless 200). */
  login(id: string, secret: string): Promise<string>;
  /** An org with a client holding `permissions`, and that client's token. */
  orgWithClient(
    name: string,
    permissions?: string[],
  ): Promise<{ orgId: string; clientId: string; token: string }>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Harness> {
  const clock = new ManualClock();
  const emu = new GenesysEmulator({ clock: clock.now, ...options });
  const running = await emu.listen({ port: 0, host: '127.0.0.1' });
  const call: Harness['call'] = (path, init = {}) => {
    const { token, json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token !== undefined) headers.set('Authorization', `Bearer ${token}`);
    if (json !== undefined) headers.set('Content-Type', 'application/json');
    const body = json !== undefined ? JSON.stringify(json) : rest.body;
    return fetch(`${running.url}${path}`, { ...rest, headers, body });
  };
  const login: Harness['login'] = async (id, secret) => {
    const res = await tokenRequest(running.url, id, secret);
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  return {
    emu,
    url: running.url,
    clock,
    close: running.close,
    call,
    login,
    async orgWithClient(name, permissions = ['conversation:communication:view']) {
      const org = emu.createOrg({ name });
      const client = emu.createClient({ orgId: org.id, name: `${name} relay`, permissions });
      return { orgId: org.id, clientId: client.id, token: await login(client.id, client.secret) };
    },
  };
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

export function tokenRequest(
  url: string,
  id: string,
  secret: string,
  body = 'grant_type=client_credentials',
) {
  return fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { Authorization: basic(id, secret), 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });
}

/** A conversation with a customer (`cust`, one seeded attribute) and a chat agent (`agent`). */
export function twoPartyConversation(h: Harness, orgId: string, opts: { visibleAfterMs?: number } = {}) {
  return h.emu.createConversation({
    orgId,
    ...opts,
    participants: [
      { id: 'cust', purpose: 'customer', name: 'Caller', attributes: { seed: '1' } },
      { id: 'agent', purpose: 'agent', media: 'chat' },
    ],
  });
}

/** The generic attribute endpoint, or a media variant's. */
export const attrPath = (cid: string, pid: string, media?: string) =>
  media
    ? `/api/v2/conversations/${media}/${cid}/participants/${pid}/attributes`
    : `/api/v2/conversations/${cid}/participants/${pid}/attributes`;
