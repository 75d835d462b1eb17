/**
 * One bench target per process (the load generator runs in another), started by test/bench/run.ts:
 *   app       the real app (createApp, real SQLite file, info logs to stdout)
 *   bare      a bare Hono app answering 202 on the same node:http server setup: the ceiling
 *   emulator  the Genesys emulator, seeded with an org, a grant and a conversation
 *   ingest    the real app with one installed org and one standard-webhooks source
 *   ingest-prune  the same, whose org also has BENCH_PRUNE_ROWS audit rows past its retention
 *             window; SIGUSR2 starts a retention run, which prints `PRUNED {rows, ms}` when done
 * Prints one JSON line with what the load generator needs, then serves until killed.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type Database from 'better-sqlite3';
import { createApp } from '../../src/app.js';
import { preparedAuditAppend } from '../../src/audit/store.js';
import { loadConfig } from '../../src/config.js';
import { loadKeys } from '../../src/crypto/keys.js';
import { startCheckpointer } from '../../src/db/checkpointer.js';
import { openDatabase } from '../../src/db/client.js';
import { sqliteStorage } from '../../src/db/sqlite-stores.js';
import { buildDeps } from '../../src/deps.js';
import { GenesysEmulator } from '../../src/emulator/index.js';
import { startServer } from '../../src/http/server.js';
import { newWebhookSecret } from '../../src/ingest/standard-webhooks.js';
import { systemClock } from '../../src/lib/clock.js';
import { newId } from '../../src/lib/ids.js';
import { createLogger } from '../../src/lib/logger.js';
import type { Pruner } from '../../src/retention/pruner.js';
import { tempDir } from '../helpers/tmp.js';

const kind = process.argv[2];
const host = '127.0.0.1';
const DAY = 86_400_000;

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
    const app = createApp(
      buildDeps({ config, storage: sqliteStorage(database), logger, clock: systemClock, keys }),
    );
    const s = await startServer(app, { port: 0, host });
    process.on('exit', () => dir.cleanup());
    return { url: s.url };
  }
  if (kind === 'ingest' || kind === 'ingest-prune') {
    // The real app, with one installed org and one standard-webhooks source written straight
    // through the stores (no Genesys is involved in accepting events).
    const dir = tempDir('relay-bench');
    const config = loadConfig({ DATABASE_PATH: `${dir.path}/relay.sqlite`, LOG_LEVEL: 'info' });
    const database = openDatabase(config.database.path);
    database.migrate();
    const logger = createLogger(config.logLevel);
    // As the server process (src/main.ts) runs it: checkpoints off the event loop.
    startCheckpointer(database.sqlite, config.database.path, { logger });
    const deps = buildDeps({
      config,
      storage: sqliteStorage(database),
      logger,
      clock: systemClock,
      keys: loadKeys(config, createLogger('silent')),
    });
    const orgId = '0b3c6a55-5f0e-4a55-9d1c-6b7f8e9a0b1c';
    // Before the install: ids only ever grow, and retention reads a row's age from its id.
    if (kind === 'ingest-prune') seedExpiredAudit(database.sqlite, orgId);
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
    if (kind === 'ingest-prune') process.on('SIGUSR2', () => void prune(deps.pruner));
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

/**
 * BENCH_PRUNE_ROWS (default 150,000) audit rows of `orgId` from 190 to 100 days ago, past the
 * default 90-day window, each between rows of an org that is not installed (so not pruned): an
 * org's rows are spread over pages as in a shared log, and a batch touches as many pages.
 */
function seedExpiredAudit(sqlite: Database.Database, orgId: string): void {
  const rows = Number(process.env.BENCH_PRUNE_ROWS ?? 150_000);
  const append = preparedAuditAppend(sqlite);
  const neighbour = crypto.randomUUID();
  const start = Date.now() - 190 * DAY;
  const step = (90 * DAY) / (2 * rows);
  for (let i = 0; i < 2 * rows; ) {
    sqlite.transaction(() => {
      for (const end = Math.min(2 * rows, i + 10_000); i < end; i++) {
        append({
          orgId: i % 2 ? neighbour : orgId,
          at: Math.floor(start + i * step),
          kind: 'patch.applied',
          actor: { type: 'system', job: 'job_bench' },
          sourceId: 'src_bench',
          eventId: `evt_bench${i}`,
          ruleIds: [`rule_${i % 13}`],
          conversationId: `conv-${i % 5000}`,
          participantId: 'p-1',
          outcome: 'applied',
          detail: {
            attributes: { tier: 'gold', n: String(i) },
            status: 202,
            correlationId: crypto.randomUUID(),
          },
        });
      }
    })();
  }
}

/** One retention run, as the server's 15-minute timer starts it; prints what it deleted. */
async function prune(pruner: Pruner): Promise<void> {
  const t = performance.now();
  const counts = await pruner.runOnce();
  const rows = Object.values(counts).reduce((sum, c) => sum + (c.audit_log ?? 0), 0);
  process.stdout.write(`PRUNED ${JSON.stringify({ rows, ms: performance.now() - t })}\n`);
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
