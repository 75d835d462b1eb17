import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { GenesysEmulator } from '../emulator/index.js';
import { curlCommand, exampleEvent } from './event.js';
import { freePort, type RelayProcess, spawnRelay, waitReady } from './relay-process.js';
import { seedGenesys, seedRelay } from './seed.js';
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
  // Listening first: a demo already running holds the port, and we must not wipe its database.
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
    wipeDemoFiles(settings);
    const port = settings.port === 0 ? await freePort(settings.host) : settings.port;
    const publicUrl = `http://localhost:${port}`;
    const genesys = seedGenesys(emulator, `${publicUrl}/`);
    relay = spawnRelay(settings.relayEntry, {
      PATH: settings.path,
      PORT: String(port),
      HOST: settings.host,
      PUBLIC_URL: publicUrl,
      DATABASE_PATH: settings.databasePath,
      // Per run, so no master.key file is written beside the normal ./data/relay.sqlite's.
      RELAY_MASTER_KEY: randomBytes(32).toString('base64url'),
      GENESYS_BASE_URL: emu.url,
      GENESYS_OAUTH_CLIENT_ID: genesys.vendorClient.id,
      LOG_LEVEL: settings.logLevel,
    });
    void relay.exited.then((code) => {
      if (stopping) return;
      console.error(`demo: the relay stopped unexpectedly (${code})`);
      void stop(1);
    });
    const relayUrl = `http://${hostForUrl(settings.host)}:${port}`;
    await waitReady(relayUrl, relay);
    const adminToken = await signInWithPkce(emu.url, genesys.vendorClient, genesys.admin.id);
    const seeded = await seedRelay(relayUrl, adminToken);
    const state: DemoState = {
      relayUrl,
      adminUrl: `${publicUrl}/?gcHostOrigin=https://apps.mypurecloud.com&gcTargetEnv=prod`,
      emulatorUrl: emu.url,
      orgId: genesys.org.id,
      source: { id: seeded.source.id, secret: seeded.source.secret, ingestUrl: seeded.source.ingestUrl },
      conversationId: genesys.conversationId,
      customerParticipantId: genesys.customerParticipantId,
      watchUrl: `${emu.url}/__emulator/conversations/${genesys.conversationId}`,
    };
    writeDemoState(settings.stateFile, state);
    process.stdout.write(banner(state, genesys.admin.name, settings));
    process.stdout.write(
      `${JSON.stringify({ msg: 'demo ready', ...publicPart(state), stateFile: settings.stateFile })}\n`,
    );
  } catch (err) {
    console.error(`demo failed to start: ${err instanceof Error ? err.message : String(err)}`);
    await stop(1);
  }
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
