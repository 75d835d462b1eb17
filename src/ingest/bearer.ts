import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new opaque bearer token for a source. */
export function newBearerToken(): string {
  return `rly_${randomBytes(32).toString('base64url')}`;
}

/** Constant-time: both sides hashed to 32 bytes first, so length differences reveal nothing. */
export function bearerMatches(secrets: readonly string[], offered: string | undefined): boolean {
  if (!offered) return false;
  const given = createHash('sha256').update(offered).digest();
  let ok = false;
  for (const s of secrets) ok = timingSafeEqual(given, createHash('sha256').update(s).digest()) || ok;
  return ok;
}
