import { hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config.js';
import { ConfigError } from '../config.js';
import type { Logger } from '../lib/logger.js';

/** What a sub-key is for; each purpose gets its own HKDF output, so the master key is never used raw. */
export type KeyPurpose = 'session-v1' | 'secrets-v1' | 'audit-signing-v1';

export interface Keys {
  /** A 32-byte key derived from the master key for one purpose. */
  derive(purpose: KeyPurpose): Uint8Array;
}

/**
 * The master key from `RELAY_MASTER_KEY`, or, outside production, from `master.key` beside the
 * database, generated once (mode 0600) with a warning. Losing that file makes every sealed secret
 * unreadable, which is why production must pass the key explicitly.
 * @throws ConfigError when the key file exists but does not hold 32 base64url bytes.
 */
export function loadKeys(config: Config, logger: Logger): Keys {
  const master = config.masterKey
    ? Buffer.from(config.masterKey, 'base64url')
    : readOrCreateKeyFile(config.masterKeyFile, logger);
  const cache = new Map<KeyPurpose, Uint8Array>();
  return {
    derive(purpose) {
      let key = cache.get(purpose);
      if (!key) {
        key = new Uint8Array(hkdfSync('sha256', master, 'attribute-relay', purpose, 32));
        cache.set(purpose, key);
      }
      return key;
    },
  };
}

function readOrCreateKeyFile(path: string, logger: Logger): Buffer {
  if (existsSync(path)) {
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url');
    if (key.length !== 32) throw new ConfigError('RELAY_MASTER_KEY', `file ${path} does not hold 32 bytes`);
    return key;
  }
  const key = randomBytes(32);
  mkdirSync(dirname(path), { recursive: true });
  // `wx`: never overwrite a key another process wrote a moment ago.
  writeFileSync(path, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  logger.warn(
    'RELAY_MASTER_KEY is not set: generated a master key file; set RELAY_MASTER_KEY in production',
    {
      path,
    },
  );
  return key;
}
