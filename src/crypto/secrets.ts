import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import type { Keys } from './keys.js';

/**
 * Secrets at rest (client secrets, source secrets) as compact JWE, `dir` + `A256GCM`, under the
 * `secrets-v1` sub-key. The org id sits in the protected header, which GCM authenticates: a sealed
 * value copied into another org's row fails to open instead of lending that org the secret.
 */
export interface Sealer {
  seal(orgId: string, plaintext: string): Promise<string>;
  /** @throws SealError when the value is not ours, was altered, or belongs to another org. */
  open(orgId: string, sealed: string): Promise<string>;
}

export class SealError extends Error {
  override name = 'SealError';
}

const KID = 'secrets-v1';

export function createSealer(keys: Keys): Sealer {
  const key = keys.derive(KID);
  return {
    async seal(orgId, plaintext) {
      return new CompactEncrypt(new TextEncoder().encode(plaintext))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: KID, org: orgId })
        .encrypt(key);
    },
    async open(orgId, sealed) {
      let header: Record<string, unknown>;
      try {
        header = decodeProtectedHeader(sealed) as Record<string, unknown>;
      } catch {
        throw new SealError('not a sealed value');
      }
      if (header.org !== orgId) throw new SealError('sealed for another org');
      try {
        const { plaintext, protectedHeader } = await compactDecrypt(sealed, key, {
          keyManagementAlgorithms: ['dir'],
          contentEncryptionAlgorithms: ['A256GCM'],
        });
        if (protectedHeader.org !== orgId) throw new SealError('sealed for another org');
        return new TextDecoder().decode(plaintext);
      } catch (e) {
        if (e instanceof SealError) throw e;
        throw new SealError('cannot open sealed value');
      }
    },
  };
}
