import { once } from 'node:events';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { signInWithPkce } from '../../src/demo/sign-in.js';
import { type Spawned, spawnEntry } from '../helpers/process.js';
import { tempDir } from '../helpers/tmp.js';

interface Ready {
  relayUrl: string;
  adminUrl: string;
  emulatorUrl: string;
  conversationId: string;
  customerParticipantId: string;
  watchUrl: string;
  sourceId: string;
  stateFile: string;
}

const dir = tempDir('demo');
const children: Spawned[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.child.exitCode === null) c.child.kill('SIGKILL');
});
afterAll(() => dir.cleanup());

/** `npm run demo` from source, with its files in the temp folder; free ports unless told. */
function spawnDemo(env: Record<string, string> = {}): Spawned {
  const demo = spawnEntry('src/demo/main.ts', {
    PORT: '0',
    EMULATOR_PORT: '0',
    DATABASE_PATH: `${dir.path}/demo.sqlite`,
    DEMO_RELAY_ENTRY: 'src/main.ts',
    ...env,
  });
  children.push(demo);
  return demo;
}

async function startDemo(): Promise<{ demo: Spawned; ready: Ready }> {
  const demo = spawnDemo();
  const ready = (await demo.waitForLog('demo ready')) as unknown as Ready;
  return { demo, ready };
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function customerAttributes(ready: Ready): Promise<Record<string, string>> {
  const conversation = (await (await fetch(ready.watchUrl)).json()) as {
    participants: Array<{ id: string; attributes: Record<string, string> }>;
  };
  return conversation.participants.find((p) => p.id === ready.customerParticipantId)?.attributes ?? {};
}

/** What a browser does on the emulator's page: find the button, post its form, follow nothing. */
async function viewerSession(ready: Ready): Promise<{ role: string }> {
  const ui = (await (await fetch(`${ready.relayUrl}/v1/ui-config`)).json()) as {
    oauthClientId: string;
    redirectUri: string;
  };
  const page = await (
    await fetch(
      `${ready.emulatorUrl}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: ui.oauthClientId, redirect_uri: ui.redirectUri, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })}`,
    )
  ).text();
  expect(page).toContain('aria-label="Sign in as Ada Admin"');
  const viewerForm = /name="user_id" value="([^"]+)"><button[^>]*aria-label="Sign in as Victor Viewer"/.exec(
    page,
  );
  const token = await signInWithPkce(
    ready.emulatorUrl,
    { id: ui.oauthClientId, redirectUri: ui.redirectUri },
    viewerForm?.[1] ?? '',
  );
  const res = await fetch(`${ready.relayUrl}/v1/session`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ environment: 'mypurecloud.com' }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { role: string };
}

describe('npm run demo', () => {
  it('seeds a working org, prints a send command that changes the customer’s attributes, and stops on Ctrl-C', async () => {
    const { demo, ready } = await startDemo();
    expect(ready.adminUrl).toMatch(
      /^http:\/\/localhost:\d+\/\?gcHostOrigin=https:\/\/apps\.mypurecloud\.com&gcTargetEnv=prod$/,
    );
    expect(await customerAttributes(ready)).toEqual({ orderStatus: 'processing' });
    expect(statSync(ready.stateFile).mode & 0o777).toBe(0o600);
    // The state file holds the secret; the printed ready line does not.
    expect(demo.stdout()).not.toContain(JSON.parse(readFileSync(ready.stateFile, 'utf8')).source.secret);

    const printed = /npm run demo:send -- '([^']+)'/.exec(demo.stdout())?.[1] ?? '';
    expect(JSON.parse(printed)).toEqual({
      conversationId: ready.conversationId,
      order: { status: 'shipped' },
    });
    const send = spawnEntry('src/demo/send.ts', { DATABASE_PATH: `${dir.path}/demo.sqlite` }, [printed]);
    children.push(send);
    expect(await send.exited).toBe(0);
    expect(send.stdout()).toMatch(/^202 \{"eventId":"evt_/);
    await poll('orderStatus to become shipped', async () => {
      const attributes = await customerAttributes(ready);
      return attributes.orderStatus === 'shipped' ? attributes : undefined;
    });

    // The admin UI's sign-in path works against this configuration (a viewer, to see the role).
    expect(await viewerSession(ready)).toMatchObject({ role: 'viewer' });

    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    const relayGone = await fetch(`${ready.relayUrl}/healthz`).then(
      () => false,
      () => true,
    );
    expect(relayGone).toBe(true);
  });

  it('starts from a fresh database every time', async () => {
    const first = await startDemo();
    first.demo.child.kill('SIGTERM');
    expect(await first.demo.exited).toBe(0);
    const second = await startDemo();
    expect(second.ready.sourceId).not.toBe(first.ready.sourceId);
    const sources = await fetch(`${second.ready.relayUrl}/v1/hooks/${first.ready.sourceId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(sources.status).toBe(404);
    second.demo.child.kill('SIGINT');
    expect(await second.demo.exited).toBe(0);
  });

  it('refuses a taken PORT before touching the previous run’s files', async () => {
    const other = createServer().listen(0, '127.0.0.1');
    await once(other, 'listening');
    const { port } = other.address() as { port: number };
    writeFileSync(`${dir.path}/demo.json`, '{"previous":"run"}');
    try {
      const demo = spawnDemo({ PORT: String(port) });
      expect(await demo.exited).toBe(1);
      expect(demo.stderr()).toContain(`port ${port} on 127.0.0.1 is in use`);
      expect(readFileSync(`${dir.path}/demo.json`, 'utf8')).toBe('{"previous":"run"}');
    } finally {
      other.close();
    }
  });
});
