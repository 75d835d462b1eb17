import { errors, jwtVerify, SignJWT } from 'jose';
import type { Keys } from './keys.js';

/** What an admin session carries. `installedAt` ties it to one installation of the org. */
export interface SessionClaims {
  orgId: string;
  role: 'admin' | 'viewer';
  userId: string;
  userName: string;
  installedAt: number;
}

export interface Sessions {
  issue(claims: SessionClaims, now: number): Promise<{ token: string; expiresAt: number }>;
  /** @returns the claims, or undefined for a tampered, expired, foreign or malformed token. */
  verify(token: string, now: number): Promise<SessionClaims | undefined>;
}

const ISSUER = 'attribute-relay';
const AUDIENCE = 'attribute-relay/admin';
export const SESSION_TTL_MS = 60 * 60 * 1000;

/** Our own short-lived JWTs (HS256, pinned) under the `session-v1` sub-key. */
export function createSessions(keys: Keys): Sessions {
  const key = keys.derive('session-v1');
  return {
    async issue(claims, now) {
      const iat = Math.floor(now / 1000);
      const exp = iat + SESSION_TTL_MS / 1000;
      const token = await new SignJWT({
        org: claims.orgId,
        role: claims.role,
        name: claims.userName,
        ins: claims.installedAt,
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(claims.userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(key);
      return { token, expiresAt: exp * 1000 };
    },
    async verify(token, now) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          currentDate: new Date(now),
        });
        const { sub, org, role, name, ins } = payload;
        if (typeof sub !== 'string' || typeof org !== 'string' || typeof ins !== 'number') return undefined;
        if (role !== 'admin' && role !== 'viewer') return undefined;
        return {
          orgId: org,
          role,
          userId: sub,
          userName: typeof name === 'string' ? name : '',
          installedAt: ins,
        };
      } catch (e) {
        if (e instanceof errors.JOSEError || e instanceof TypeError) return undefined;
        throw e;
      }
    },
  };
}
