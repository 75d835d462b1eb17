import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { loadKeys } from '../../src/crypto/keys.js';
import { createSealer, SealError } from '../../src/crypto/secrets.js';
import { createLogger } from '../../src/lib/logger.js';

const sealerWith = (key = randomBytes(32)) =>
  createSealer(loadKeys(loadConfig({ RELAY_MASTER_KEY: key.toString('base64url') }), createLogger('silent')));

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

describe('sealed secrets', () => {
  it('round-trips, as a compact JWE with dir/A256GCM and the org in its protected header', async () => {
    const s = sealerWith();
    const sealed = await s.seal(A, 'top-secret');
    expect(sealed.split('.')).toHaveLength(5);
    expect(sealed).not.toContain('top-secret');
    const header = JSON.parse(Buffer.from(sealed.split('.')[0]!, 'base64url').toString());
    expect(header).toEqual({ alg: 'dir', enc: 'A256GCM', kid: 'secrets-v1', org: A });
    expect(await s.open(A, sealed)).toBe('top-secret');
  });

  it('refuses a value copied to another org', async () => {
    const s = sealerWith();
    await expect(s.open(B, await s.seal(A, 'x'))).rejects.toBeInstanceOf(SealError);
  });

  it('refuses a header rewritten to name the other org (GCM authenticates it)', async () => {
    const s = sealerWith();
    const [, ...rest] = (await s.seal(A, 'x')).split('.');
    const forgedHeader = Buffer.from(
      JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: 'secrets-v1', org: B }),
    ).toString('base64url');
    await expect(s.open(B, [forgedHeader, ...rest].join('.'))).rejects.toBeInstanceOf(SealError);
  });

  it('refuses tampering, another master key, and garbage', async () => {
    const s = sealerWith();
    const sealed = await s.seal(A, 'secret');
    const parts = sealed.split('.');
    parts[3] = `${parts[3]!.slice(0, -2)}${parts[3]!.endsWith('AA') ? 'BB' : 'AA'}`;
    await expect(s.open(A, parts.join('.'))).rejects.toBeInstanceOf(SealError);
    await expect(sealerWith().open(A, sealed)).rejects.toBeInstanceOf(SealError);
    await expect(s.open(A, 'not-a-jwe')).rejects.toBeInstanceOf(SealError);
  });
});
