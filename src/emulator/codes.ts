import { createHash, randomBytes } from 'node:crypto';

/** How long an authorization code may wait for its token exchange (Genesys does not say; RFC 6749 asks for short). */
export const CODE_LIFETIME_MS = 60_000;

/** What an authorization code was issued for; the token exchange must present the same. */
export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  userId: string;
  /** BASE64URL(SHA256(code_verifier)); undefined for a confidential client without PKCE. */
  codeChallenge: string | undefined;
}

interface StoredCode extends CodeGrant {
  expiresAt: number;
}

/** One-time authorization codes of the login host. */
export class AuthorizationCodes {
  private readonly codes = new Map<string, StoredCode>();

  constructor(private readonly now: () => number) {}

  issue(grant: CodeGrant): string {
    // Codes nobody exchanged would otherwise pile up for the emulator's whole life.
    for (const [old, stored] of this.codes) if (this.now() >= stored.expiresAt) this.codes.delete(old);
    const code = randomBytes(24).toString('base64url');
    this.codes.set(code, { ...grant, expiresAt: this.now() + CODE_LIFETIME_MS });
    return code;
  }

  /**
   * The code's grant, once: presenting a code uses it up whatever happens next, so a wrong
   * verifier cannot be retried against the same code. Expired codes are undefined.
   */
  take(code: string): CodeGrant | undefined {
    const stored = this.codes.get(code);
    this.codes.delete(code);
    if (!stored || this.now() >= stored.expiresAt) return undefined;
    const { expiresAt: _expiresAt, ...grant } = stored;
    return grant;
  }
}

/** RFC 7636 S256: BASE64URL(SHA256(ASCII(code_verifier))). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~]. */
export const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** An S256 challenge is always 43 base64url characters. */
export const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
