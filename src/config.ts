import { z } from 'zod';

/**
 * The only reader of `process.env` (enforced by test/architecture.test.ts). Every variable of the
 * contract's table is validated here once, with its default, into a frozen nested object. A bad
 * value becomes one `ConfigError` line naming the variable; `main.ts` prints it and exits 1.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly nodeEnv: string;
  readonly production: boolean;
  readonly http: { readonly port: number; readonly host: string; readonly publicUrl: string };
  /**
   * `url` set: PostgreSQL, shared by any number of instances; unset: SQLite at `path`, one process.
   * Pool size and statement timeout apply to PostgreSQL only.
   */
  readonly database: {
    readonly path: string;
    readonly url: string | undefined;
    readonly poolSize: number;
    readonly statementTimeoutMs: number;
  };
  /** Base64url of 32 bytes when given; otherwise `crypto/keys.ts` generates `masterKeyFile`. */
  readonly masterKey: string | undefined;
  readonly masterKeyFile: string;
  readonly genesys: {
    readonly baseUrl: string | undefined;
    readonly oauthClientId: string | undefined;
    /** The premium app's product id: an org must have bought it. Unset: no check (development orgs). */
    readonly productId: string | undefined;
  };
  readonly logLevel: LogLevel;
  /** How long a `webhook-id` / `Idempotency-Key` is remembered per source. */
  readonly ingest: { readonly dedupWindowMs: number };
  /** Deliveries in flight at once per instance (each waits on Genesys most of its time). */
  readonly delivery: { readonly concurrency: number };
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

const port = z.coerce.number().int().min(0).max(65535);
const httpUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));
const KEY_COMMAND = `node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`;
/** 32 bytes as base64url; standard base64 (+ / =) is taken too and normalised. */
const masterKey = z
  .string()
  .transform((s) => s.trim().replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_'))
  .refine((s) => /^[A-Za-z0-9_-]+$/.test(s) && Buffer.from(s, 'base64url').length === 32, {
    message: `must be 32 random bytes in base64url; make one with: ${KEY_COMMAND}`,
  });

/** Never echoed in an error: their values are secrets. */
/** Never echoed: the key itself, and a database URL that may carry a password. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['RELAY_MASTER_KEY', 'DATABASE_URL']);

/** Each variable's schema; the key is the variable name, so a failure names it. */
const variables = {
  NODE_ENV: z.string().default('development'),
  PORT: port.default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_PATH: z.string().min(1).default('./data/relay.sqlite'),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  RELAY_MASTER_KEY: masterKey.optional(),
  GENESYS_BASE_URL: httpUrl.optional(),
  PUBLIC_URL: httpUrl.optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  GENESYS_OAUTH_CLIENT_ID: z.string().min(1).optional(),
  GENESYS_PRODUCT_ID: z.string().min(1).max(200).optional(),
  INGEST_DEDUP_HOURS: z.coerce
    .number()
    .int()
    .min(24)
    .max(24 * 90)
    .default(24),
  DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(64),
} satisfies Record<string, z.ZodType>;

type Parsed = { [K in keyof typeof variables]: z.output<(typeof variables)[K]> };

function parseVariables(env: Record<string, string | undefined>): Parsed {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(variables)) {
    // An empty string means "unset", as most process managers write it.
    const raw = env[name] === '' ? undefined : env[name];
    const result = schema.safeParse(raw);
    if (!result.success) {
      const issue = result.error.issues[0];
      const got = SECRET_VARIABLES.has(name) ? '' : ` (got ${JSON.stringify(raw)})`;
      throw new ConfigError(name, `${issue?.message ?? 'is invalid'}${got}`);
    }
    out[name] = result.data;
  }
  return out as Parsed;
}

/**
 * Validates an environment (normally `process.env`) into a `Config`.
 * @throws ConfigError naming the first bad variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const v = parseVariables(env);
  const production = v.NODE_ENV === 'production';
  if (production && v.RELAY_MASTER_KEY === undefined) {
    throw new ConfigError('RELAY_MASTER_KEY', 'is required when NODE_ENV=production');
  }
  // Instances sharing a database must share the key that seals its secrets: a key file generated
  // beside each instance would make every other instance's sealed grants unreadable.
  if (v.DATABASE_URL !== undefined && v.RELAY_MASTER_KEY === undefined) {
    throw new ConfigError(
      'RELAY_MASTER_KEY',
      'is required with DATABASE_URL: every instance on the database must have the same key',
    );
  }
  const dataDir = v.DATABASE_PATH === ':memory:' ? './data' : dirnameOf(v.DATABASE_PATH);
  return Object.freeze({
    nodeEnv: v.NODE_ENV,
    production,
    http: Object.freeze({
      port: v.PORT,
      host: v.HOST,
      publicUrl: v.PUBLIC_URL ?? `http://localhost:${v.PORT}`,
    }),
    database: Object.freeze({
      path: v.DATABASE_PATH,
      url: v.DATABASE_URL,
      poolSize: v.DATABASE_POOL_SIZE,
      statementTimeoutMs: v.DATABASE_STATEMENT_TIMEOUT_MS,
    }),
    masterKey: v.RELAY_MASTER_KEY,
    masterKeyFile: `${dataDir}/master.key`,
    genesys: Object.freeze({
      baseUrl: v.GENESYS_BASE_URL,
      oauthClientId: v.GENESYS_OAUTH_CLIENT_ID,
      productId: v.GENESYS_PRODUCT_ID,
    }),
    logLevel: v.LOG_LEVEL,
    ingest: Object.freeze({ dedupWindowMs: v.INGEST_DEDUP_HOURS * 3_600_000 }),
    delivery: Object.freeze({ concurrency: v.DELIVERY_CONCURRENCY }),
  });
}

function dirnameOf(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '.';
  return i === 0 ? '/' : path.slice(0, i);
}
