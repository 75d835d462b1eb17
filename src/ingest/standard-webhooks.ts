import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The Standard Webhooks scheme (standardwebhooks.com): HMAC-SHA256 with the base64 key after
 * `whsec_`, over `{webhook-id}.{webhook-timestamp}.{raw body}`; `webhook-signature` carries one
 * or more space-separated `v1,<base64>` entries and any valid one passes.
 */
const PREFIX = 'whsec_';
export const TOLERANCE_SECONDS = 5 * 60;

/** A new secret: `whsec_` + base64 of 32 random bytes (the specification asks for 24 to 64). */
export function newWebhookSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
}

/** `v1,<base64>` for the given message. */
export function sign(secret: string, id: string, timestamp: number, body: Uint8Array | string): string {
  const mac = createHmac('sha256', keyOf(secret));
  mac.update(`${id}.${timestamp}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

export type VerifyFailure = 'missing_headers' | 'stale_timestamp' | 'bad_signature';

/**
 * Checks the headers against each secret still valid; `undefined` when one signature matches.
 * Comparison is constant-time over the decoded bytes.
 */
export function verify(
  secrets: readonly string[],
  headers: { id: string | undefined; timestamp: string | undefined; signature: string | undefined },
  body: Uint8Array,
  nowMs: number,
): VerifyFailure | undefined {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return 'missing_headers';
  if (!/^\d{1,12}$/.test(timestamp)) return 'stale_timestamp';
  const ts = Number(timestamp);
  if (Math.abs(nowMs / 1000 - ts) > TOLERANCE_SECONDS) return 'stale_timestamp';
  const offered = signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  for (const secret of secrets) {
    const expected = Buffer.from(sign(secret, id, ts, body).slice(3), 'base64');
    for (const candidate of offered) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return undefined;
    }
  }
  return 'bad_signature';
}
