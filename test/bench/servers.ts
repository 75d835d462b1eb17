/**
 * One bench target per process (the load generator runs in another), started by test/bench/run.ts:
 *   app       the real app (createApp, real SQLite file, info logs to stdout)
 *   bare      a bare Hono app answering 202 on the same node:http server setup: the ceiling
 *   emulator  the Genesys emulator, seeded with an org, a grant and a conversation
 * Prints one JSON line with what the load generator needs, then serves until killed.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { loadKeys } from '../../src/crypto/keys.js';
import { openDatabase } from '../../src/db/client.js';
import { buildDeps } from '../../src/deps.js';
import { GenesysEmulator } from '../../src/emulator/index.js';
import { startServer } from '../../src/http/server.js';
import { newWebhookSecret } from '../../src/ingest/standard-webhooks.js';
import { systemClock } from '../../src/lib/clock.js';
import { newId } from '../../src/lib/ids.js';
import { createLogger } from '../../src/lib/logger.js';
import { tempDir } from '../helpers/tmp.js';

const kind = process.argv[2];
const host = '127.0.0.1';

async function main(): Promise<Record<string, unknown>> {
  if (kind === 'bare') {
    const app = new OpenAPIHono();
    app.post('*', (c) => c.body(null, 202));
    app.get('/', (c) => c.body(null, 202));
    const s = await startServer(app, { port: 0, host });
    return { url: s.url };
  }
  if (kind === 'app') {
    const dir = tempDir('relay-bench');
    const config = loadConfig({ DATABASE_PATH: `${dir.path}/relay.sqlite`, LOG_LEVEL: 'info' });
    const database = openDatabase(config.database.path);
    database.migrate();
    const logger = createLogger(config.logLevel);
    const keys = loadKeys(config, createLogger('silent'));
    const app = createApp(buildDeps({ config, database, logger, clock: systemClock, keys }));
    const s = await startServer(app, { port: 0, host });
    process.on('exit', () => dir.cleanup());
    return { url: s.url };
  }
  if (kind === 'ingest') {
    // The real app, with one installed org and one standard-webhooks source written straight
    // through the stores (no Genesys is involved in accepting events).
    const dir = tempDir('relay-bench');
    const config = loadConfig({ DATABASE_PATH: `${dir.path}/relay.sqlite`, LOG_LEVEL: 'info' });
    const database = openDatabase(config.database.path);
    database.migrate();
    const deps = buildDeps({
      config,
      database,
      logger: createLogger(config.logLevel),
      clock: systemClock,
      keys: loadKeys(config, createLogger('silent')),
    });
    const orgId = '0b3c6a55-5f0e-4a55-9d1c-6b7f8e9a0b1c';
    const now = Date.now();
    const actor = { type: 'system' as const };
    await deps.tenants.install(
      {
        orgId,
        orgName: 'Bench',
        environment: 'mypurecloud.com',
        installedAt: now,
        grant: {
          clientId: 'bench',
          secretSealed: await deps.sealer.seal(orgId, 'bench'),
          managed: false,
          managedRoleId: null,
        },
      },
      { orgId, at: now, kind: 'tenant.installed', actor },
    );
    const secret = newWebhookSecret();
    const sourceId = newId('src');
    await deps.sources.create(
      {
        id: sourceId,
        orgId,
        name: 'bench',
        auth: 'standard-webhooks',
        secretSealed: await deps.sealer.seal(orgId, secret),
        previousSecretSealed: null,
        previousValidUntil: null,
        createdAt: now,
        rotatedAt: null,
      },
      { orgId, at: now, kind: 'source.created', actor },
    );
    const s = await startServer(createApp(deps), { port: 0, host });
    process.on('exit', () => dir.cleanup());
    return { url: s.url, sourceId, secret, dbPath: config.database.path };
  }
  if (kind === 'emulator') {
    const emu = new GenesysEmulator({ rateLimitPerMinute: null });
    const org = emu.createOrg({ name: 'Bench' });
    const grant = emu.createClient({ orgId: org.id, permissions: ['conversation:communication:view'] });
    const conv = emu.createConversation({ orgId: org.id, participants: [{ purpose: 'customer' }] });
    const s = await emu.listen({ port: 0, host });
    const res = await fetch(`${s.url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${grant.id}:${grant.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const { access_token } = (await res.json()) as { access_token: string };
    const path = `/api/v2/conversations/${conv.id}/participants/${conv.participants[0]!.id}/attributes`;
    return { url: s.url, path, token: access_token };
  }
  throw new Error(`unknown bench server kind: ${kind}`);
}

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0)); // runs the 'exit' clean-ups

main().then(
  (info) => process.stdout.write(`BENCH ${JSON.stringify(info)}\n`),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
