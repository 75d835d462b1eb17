import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (src/demo/ → ../..), where the relay's entries live. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface DemoSettings {
  /** The relay's port; 0 picks a free one. */
  port: number;
  /** Loopback by default: the demo's users sign in without a password. */
  host: string;
  emulatorPort: number;
  emulatorHost: string;
  /** Absolute; a separate file from the normal ./data/relay.sqlite, wiped at each start. */
  databasePath: string;
  /** Where demo:send finds the source's id and secret: demo.json beside the database. */
  stateFile: string;
  /** The relay's log level (`warn` keeps the terminal readable; `info` shows every request). */
  logLevel: string;
  /** The relay entry to run: the built dist/main.js when there is one, else src/main.ts through tsx. */
  relayEntry: string;
  /** Passed on to the relay, which gets no other variable of ours. */
  path: string;
}

/**
 * The demo's own environment (the demo entries are the only other readers of process.env beside
 * src/config.ts; the relay child still gets everything it needs through its own variables).
 */
export function demoSettings(env: Record<string, string | undefined> = process.env): DemoSettings {
  const databasePath = resolve(env.DATABASE_PATH ?? './data/demo.sqlite');
  const built = join(ROOT, 'dist/main.js');
  return {
    port: portOf(env, 'PORT', 8080),
    host: env.HOST ?? '127.0.0.1',
    emulatorPort: portOf(env, 'EMULATOR_PORT', 9090),
    emulatorHost: env.EMULATOR_HOST ?? '127.0.0.1',
    databasePath,
    stateFile: join(dirname(databasePath), 'demo.json'),
    logLevel: env.LOG_LEVEL ?? 'warn',
    path: env.PATH ?? '',
    relayEntry: resolve(ROOT, env.DEMO_RELAY_ENTRY ?? (existsSync(built) ? built : 'src/main.ts')),
  };
}

function portOf(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`${name}: not a port: ${raw}`);
  return port;
}
