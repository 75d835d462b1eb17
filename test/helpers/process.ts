import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach } from 'vitest';
import { type EmulatorOptions, GenesysEmulator } from '../../src/emulator/index.js';
import { tempDir } from './tmp.js';
import { INSTALLER_PERMISSIONS } from './world.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Spawned {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  /** Polls stdout until a log line with `msg` appears. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Runs a TypeScript entry (src/main.ts, the emulator) as a real process, as `npm start` would. */
export function spawnEntry(entry: string, env: Record<string, string>, args: string[] = []): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForLog(msg, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((l) => l.msg === msg);
        if (line) return line;
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before "${msg}": ${err}`);
        if (Date.now() > deadline) throw new Error(`no "${msg}" log line in time: ${out}${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

/**
 * For process tests: an emulator in this process and the real server (src/main.ts) pointed at it,
 * with its own temp folder and master key; every server started is killed and the folder removed
 * after each test.
 */
export function useServerProcess(label: string, emulatorOptions: EmulatorOptions = {}) {
  const f = {} as {
    emu: GenesysEmulator;
    env: Record<string, string>;
    start(extra?: Record<string, string>): Promise<{ proc: Spawned; url: string }>;
  };
  const children: Spawned[] = [];
  let emuServer: { url: string; close(): Promise<void> };
  let dir: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    f.emu = new GenesysEmulator(emulatorOptions);
    emuServer = await f.emu.listen({ port: 0, host: '127.0.0.1' });
    dir = tempDir(label);
    f.env = {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_PATH: `${dir.path}/relay.sqlite`,
      RELAY_MASTER_KEY: randomBytes(32).toString('base64url'),
      GENESYS_BASE_URL: emuServer.url,
      LOG_LEVEL: 'info',
    };
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await emuServer.close();
    dir.cleanup();
  });
  f.start = async (extra = {}) => {
    const proc = spawnEntry('src/main.ts', { ...f.env, ...extra });
    children.push(proc);
    const line = await proc.waitForLog('listening');
    return { proc, url: line.url as string };
  };
  return f;
}

/**
 * An installed org on a running server with a 6,000/min budget, one standard-webhooks source, a
 * rule `set: {seq: $.seq}` targeting `$.c`'s customer, and `conversations` fresh conversations.
 */
export async function seqRelay(
  server: ReturnType<typeof useServerProcess>,
  url: string,
  conversations: number,
): Promise<{ source: { id: string; secret: string }; convs: string[] }> {
  const emu = server.emu;
  const org = emu.createOrg({ name: 'Acme' });
  const user = emu.createUser({ orgId: org.id, name: 'Ada', permissions: INSTALLER_PERMISSIONS });
  const token = emu.createUserToken(user.id);
  const grant = emu.createClient({ orgId: org.id, permissions: ['conversation:communication:view'] });
  const call = async (method: string, path: string, bearer: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const env = { environment: 'mypurecloud.com' };
  await call('POST', '/v1/install', token, { ...env, clientId: grant.id, clientSecret: grant.secret });
  const session = (await call('POST', '/v1/session', token, env)).token as string;
  await call('PATCH', '/v1/tenant', session, { settings: { requestsPerMinute: 6000 } });
  const source = (await call('POST', '/v1/sources', session, { name: 'CRM', auth: 'standard-webhooks' })) as {
    id: string;
    secret: string;
  };
  await call('POST', '/v1/rules', session, {
    name: 'seq',
    when: { path: '$.type', op: 'exists' },
    target: { conversationId: '$.c' },
    set: { seq: '{{ $.seq }}' },
  });
  const convs = Array.from(
    { length: conversations },
    () => emu.createConversation({ orgId: org.id, participants: [{ purpose: 'customer' }] }).id,
  );
  return { source, convs };
}

/**
 * How many of `eventIds` have a delivery outcome (applied, skipped or failed) in the server's audit:
 * read-only beside the server, so rows it has staged but not yet moved count too.
 */
export function eventsWithOutcome(databasePath: string, eventIds: readonly string[]): number {
  const db = new Database(databasePath, { readonly: true });
  try {
    return db
      .prepare(
        `select count(distinct event_id) from (select event_id, kind from audit_log union all select event_id, kind from audit_staged)
         where kind in ('patch.applied', 'patch.skipped', 'patch.failed') and event_id in (select value from json_each(?))`,
      )
      .pluck()
      .get(JSON.stringify(eventIds)) as number;
  } finally {
    db.close();
  }
}
