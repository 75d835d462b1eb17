import { randomUUID } from 'node:crypto';
import { sign } from '../ingest/standard-webhooks.js';
import type { DemoState } from './state-file.js';

/** The example event the demo prints: the order of the demo conversation's customer shipped. */
export function exampleEvent(state: Pick<DemoState, 'conversationId'>): string {
  return JSON.stringify({ conversationId: state.conversationId, order: { status: 'shipped' } });
}

/** POSTs `body` to the demo source's ingest URL, signed as Standard Webhooks with its secret. */
export async function sendSigned(
  source: DemoState['source'],
  body: string,
): Promise<{ status: number; body: string }> {
  const id = `msg_${randomUUID()}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const res = await fetch(source.ingestUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign(source.secret, id, timestamp, body),
    },
    body,
  });
  return { status: res.status, body: await res.text() };
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The same delivery with curl and openssl (bash): HMAC-SHA256 over `id.timestamp.body` with the
 * key behind `whsec_`, given to openssl as hex.
 */
export function curlCommand(source: DemoState['source'], body: string): string {
  const hexKey = Buffer.from(source.secret.replace(/^whsec_/, ''), 'base64').toString('hex');
  return [
    `body=${shellQuote(body)}; id="msg_$(date +%s%N)"; ts="$(date +%s)"`,
    `sig="$(printf '%s' "$id.$ts.$body" | openssl dgst -sha256 -mac HMAC -macopt hexkey:${hexKey} -binary | base64)"`,
    `curl -sS -X POST ${shellQuote(source.ingestUrl)} -H 'content-type: application/json' -H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" --data-binary "$body"`,
  ].join('; \\\n  ');
}
