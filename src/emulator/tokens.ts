import { randomBytes } from 'node:crypto';
import type { VendorApp } from './types.js';

/** One issued access token plus its rate-limit window (fixed 60 s from the first request in it). */
export interface TokenRecord {
  token: string;
  kind: 'client' | 'user';
  orgId: string;
  clientId?: string;
  userId?: string;
  /** For user tokens: the (vendor) OAuth client the token claims to come from. */
  vendorApp?: VendorApp;
  scopes: string[];
  issuedAt: number;
  expiresAt: number;
  revoked: boolean;
  windowStart?: number;
  windowCount: number;
}

export type TokenGrant = Pick<TokenRecord, 'kind' | 'orgId' | 'clientId' | 'userId' | 'vendorApp' | 'scopes'>;

/** Genesys' default client-credentials token lifetime (24 h, facts §2). */
export const DEFAULT_TOKEN_SECONDS = 86_400;

/** Default client used as `OAuthClient` in tokens/me for user tokens (a PKCE/implicit vendor app). */
export const DEFAULT_VENDOR_APP: VendorApp = {
  id: '5e1b1c6e-0d7f-4c51-9a65-7e0a2b9d0001',
  name: 'Emulated vendor app',
  orgId: '5e1b1c6e-0d7f-4c51-9a65-7e0a2b9d0000',
  authorizedGrantType: 'CODE',
};

/** Opaque, unguessable strings like the real ones (43 chars of base64url). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Every token ever issued; validity against clients/users is decided by IdentityState. */
export class TokenStore {
  private readonly tokens = new Map<string, TokenRecord>();

  constructor(private readonly now: () => number) {}

  issue(grant: TokenGrant, lifetimeSeconds: number): TokenRecord {
    const issuedAt = this.now();
    const rec: TokenRecord = {
      ...grant,
      token: randomSecret(),
      issuedAt,
      expiresAt: issuedAt + lifetimeSeconds * 1000,
      revoked: false,
      windowCount: 0,
    };
    this.tokens.set(rec.token, rec);
    return rec;
  }

  revoke(token: string): void {
    const rec = this.tokens.get(token);
    if (rec) rec.revoked = true;
  }

  /** Permanent: re-enabling the client does not bring old tokens back. */
  revokeForClient(clientId: string): void {
    for (const rec of this.tokens.values()) if (rec.clientId === clientId) rec.revoked = true;
  }

  /** Any record for the string, valid or not. */
  peek(token: string): TokenRecord | undefined {
    return this.tokens.get(token);
  }

  /** Unknown, revoked and expired tokens are undefined. */
  live(token: string): TokenRecord | undefined {
    const rec = this.tokens.get(token);
    return rec && !rec.revoked && this.now() < rec.expiresAt ? rec : undefined;
  }
}
