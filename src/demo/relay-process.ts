import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { ROOT } from './settings.js';

export interface RelayProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) whenever the relay ends. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then wait for its graceful stop (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | string>;
}

/** The real server as its own process, exactly as `npm start` runs it (or from source through tsx). */
export function spawnRelay(entry: string, env: Record<string, string>): RelayProcess {
  const args = entry.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry];
  // stdout/stderr are the demo's own: the relay's JSON log lines show in the same terminal.
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  return {
    child,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * `port` if nothing listens there yet, or any free port for 0. Checked before the relay starts:
 * another server already on the port would otherwise answer our readiness poll and get seeded.
 * For 0, the relay's PUBLIC_URL (the redirect URI registered in Genesys) needs the real port.
 */
export async function availablePort(host: string, port: number): Promise<number> {
  const server = createServer();
  server.listen(port, host);
  // once() rejects with the server's 'error' (EADDRINUSE) when the port is taken.
  await once(server, 'listening').catch((err: Error) => {
    throw new Error(`port ${port} on ${host} is in use (set PORT): ${err.message}`);
  });
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Polls GET /readyz until 200; fails if the relay exits first or takes longer than `timeoutMs`. */
export async function waitReady(url: string, relay: RelayProcess, timeoutMs = 30_000): Promise<void> {
  let ended: number | string | undefined;
  void relay.exited.then((code) => {
    ended = code;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (ended !== undefined) throw new Error(`the relay exited (${ended}) before it was ready`);
    const ok = await fetch(`${url}/readyz`).then(
      async (res) => (await res.arrayBuffer()) && res.status === 200,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`the relay was not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
