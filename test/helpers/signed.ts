import { sign } from '../../src/ingest/standard-webhooks.js';

/** A Standard Webhooks delivery of `body` to a source's ingest URL, signed now (or at `tsSeconds`). */
export function signedPost(
  baseUrl: string,
  source: { id: string; secret: string },
  body: unknown,
  msgId: string,
  tsSeconds = Math.floor(Date.now() / 1000),
): Promise<Response> {
  return signedPostRaw(baseUrl, source, JSON.stringify(body), msgId, tsSeconds);
}

/** As `signedPost`, with the body's exact text (for JSON that `JSON.stringify` cannot produce). */
export function signedPostRaw(
  baseUrl: string,
  source: { id: string; secret: string },
  raw: string,
  msgId: string,
  tsSeconds = Math.floor(Date.now() / 1000),
): Promise<Response> {
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
