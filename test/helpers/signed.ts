import { sign } from '../../src/ingest/standard-webhooks.js';

/** A Standard Webhooks delivery of `body` to a source's ingest URL, signed now (or at `tsSeconds`). */
export function signedPost(
  baseUrl: string,
  source: { id: string; secret: string },
  body: unknown,
  msgId: string,
  tsSeconds = Math.floor(Date.now() / 1000),
): Promise<Response> {
  const raw = JSON.stringify(body);
  return fetch(`${baseUrl}/v1/hooks/${source.id}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': msgId,
      'webhook-timestamp': String(tsSeconds),
      'webhook-signature': sign(source.secret, msgId, tsSeconds, raw),
    },
    body: raw,
  });
}
