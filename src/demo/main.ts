import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { GenesysEmulator } from '../emulator/index.js';
import { curlCommand, exampleEvent } from './event.js';
import { availablePort, type RelayProcess, spawnRelay, waitReady } from './relay-process.js';
import { type SeededGenesys, type SeededRelay, seedGenesys, seedRelay } from './seed.js';
import { type DemoSettings, demoSettings } from './settings.js';
import { signInWithPkce } from './sign-in.js';
import { type DemoState, writeDemoState } from './state-file.js';

/** The Genesys emulator looks real with a little latency (and deliveries are visibly in flight). */
const EMULATOR_LATENCY_MS = 30;

/**
 * `npm run demo`: the Genesys emulator (in this process), the real relay (a child process, as
 * `npm start` runs it) pointed at it, a seeded org, source, rules and live conversation; prints
 * what to open and what to send, then runs until SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  const settings = demoSettings();
  const emulator = new GenesysEmulator({ latencyMs: EMULATOR_LATENCY_MS });
  // Ports first: a demo already running holds them, and we must not wipe its database.
  const emu = await emulator.listen({ port: settings.emulatorPort, host: settings.emulatorHost });
  let relay: RelayProcess | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (relay) await relay.stop();
    await emu.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  try {
    const port = await availablePort(settings.host, settings.port);
    wipeDemoFiles(settings);
    const publicUrl = `http://localhost:${port}`;
    const genesys = seedGenesys(emulator, `${publicUrl}/`);
    relay = spawnRelay(
      settings.relayEntry,
      relayEnv(settings, { port, publicUrl, emulatorUrl: emu.url }, genesys),
    );
    void relay.exited.then((code) => {
      if (stopping) return;
      console.error(`demo: the relay stopped unexpectedly (${code})`);
      void stop(1);
    });
    const relayUrl = `http://${hostForUrl(settings.host)}:${port}`;
    await waitReady(relayUrl, relay);
    const adminToken = await signInWithPkce(emu.url, genesys.vendorClient, genesys.admin.id);
    const seeded = await seedRelay(relayUrl, adminToken);
    const state = demoState({ relayUrl, publicUrl, emulatorUrl: emu.url }, genesys, seeded);
    writeDemoState(settings.stateFile, state);
    process.stdout.write(banner(state, genesys.admin.name, settings));
    const ready = { msg: 'demo ready', ...publicPart(state), stateFile: settings.stateFile };
    process.stdout.write(`${JSON.stringify(ready)}\n`);
  } catch (err) {
    console.error(`demo failed to start: ${err instanceof Error ? err.message : String(err)}`);
    await stop(1);
  }
}

/** Everything the relay gets: it reads nothing else of ours. */
function relayEnv(
  settings: DemoSettings,
  at: { port: number; publicUrl: string; emulatorUrl: string },
  genesys: SeededGenesys,
): Record<string, string> {
  return {
    PATH: settings.path,
    PORT: String(at.port),
    HOST: settings.host,
    PUBLIC_URL: at.publicUrl,
    DATABASE_PATH: settings.databasePath,
    // Per run, so no master.key file is written beside the normal ./data/relay.sqlite's.
    RELAY_MASTER_KEY: randomBytes(32).toString('base64url'),
    GENESYS_BASE_URL: at.emulatorUrl,
    GENESYS_OAUTH_CLIENT_ID: genesys.vendorClient.id,
    LOG_LEVEL: settings.logLevel,
  };
}

function demoState(
  urls: { relayUrl: string; publicUrl: string; emulatorUrl: string },
  genesys: SeededGenesys,
  seeded: SeededRelay,
): DemoState {
  const { id, secret, ingestUrl } = seeded.source;
  return {
    relayUrl: urls.relayUrl,
    adminUrl: `${urls.publicUrl}/?gcHostOrigin=https://apps.mypurecloud.com&gcTargetEnv=prod`,
    emulatorUrl: urls.emulatorUrl,
    orgId: genesys.org.id,
    source: { id, secret, ingestUrl },
    conversationId: genesys.conversationId,
    customerParticipantId: genesys.customerParticipantId,
    watchUrl: `${urls.emulatorUrl}/__emulator/conversations/${genesys.conversationId}`,
  };
}

/** A fresh start every time: the previous run's database, its WAL files, lock and state. */
function wipeDemoFiles(settings: DemoSettings): void {
  const db = settings.databasePath;
  for (const path of [db, `${db}-wal`, `${db}-shm`, `${db}.lock`, settings.stateFile]) {
    rmSync(path, { force: true });
  }
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** The ready line without the source's secret (logs are often kept; demo.json is 0600). */
function publicPart(state: DemoState): Record<string, unknown> {
  const { source, ...rest } = state;
  return { ...rest, sourceId: source.id, ingestUrl: source.ingestUrl };
}

function banner(state: DemoState, adminName: string, settings: DemoSettings): string {
  const event = exampleEvent(state);
  return `
attribute-relay demo is running (Ctrl-C stops it)

1. Open the admin UI and sign in as ${adminName} (one click on the emulator's sign-in page):
   ${state.adminUrl}

2. Send a signed event to the demo source (in another terminal):
   npm run demo:send -- '${event}'

   or the same with curl (bash, openssl):
   ${curlCommand(state.source, event)}

3. Watch the customer's attributes change in the Genesys emulator:
   curl -s ${state.watchUrl}

Relay ${state.relayUrl}   Genesys emulator ${state.emulatorUrl}   database ${settings.databasePath}
`;
}

main().catch((err: unknown) => {
  console.error(`demo failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
