import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What `npm run demo` leaves for `npm run demo:send` (another process, maybe another terminal). */
export interface DemoState {
  relayUrl: string;
  adminUrl: string;
  emulatorUrl: string;
  orgId: string;
  source: { id: string; secret: string; ingestUrl: string };
  conversationId: string;
  customerParticipantId: string;
  /** The emulator's control-surface view of the conversation: attributes change here. */
  watchUrl: string;
}

/** 0600: it holds the source's signing secret. */
export function writeDemoState(path: string, state: DemoState): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export function readDemoState(path: string): DemoState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`no demo state at ${path}: start the demo first (npm run demo)`);
  }
  return JSON.parse(text) as DemoState;
}
