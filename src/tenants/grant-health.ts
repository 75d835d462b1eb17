import type { Outcome } from '../genesys/outcome.js';
import type { TokenGrant } from '../genesys/token-cache.js';
import type { GrantStatus } from './store.js';

/**
 * What a token request says about an org's grant: refused credentials (any `invalid_client`, or
 * another 4xx from the token endpoint) versus Genesys not answering.
 */
export function grantHealth(
  outcome: Outcome<TokenGrant>,
  now: number,
): { status: GrantStatus; lastTokenAt?: number; lastError: string | null } | undefined {
  switch (outcome.kind) {
    case 'ok':
      return { status: 'ok', lastTokenAt: now, lastError: null };
    case 'unauthorized':
    case 'permanent':
    case 'not_found':
    case 'conflict':
      // No stored grant at all is not a health fact about one.
      if (outcome.code === 'grant.missing') return undefined;
      return { status: 'invalid_credentials', lastError: `${outcome.code}: ${outcome.message}` };
    case 'retryable':
    case 'rate_limited':
      return { status: 'unreachable', lastError: `${outcome.code}: ${outcome.message}` };
  }
}
