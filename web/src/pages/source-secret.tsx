import { useState } from 'preact/hooks';
import { when } from '../format.js';
import { t } from '../i18n.js';
import type { Source } from '../types.js';
import { Alert } from '../ui/alert.js';
import { Button } from '../ui/field.js';

/** A secret shown once (after create or rotate), with a copy button and ready-to-run examples. */
export function SecretPanel(p: { source: Source & { secret: string }; onDone: () => void }) {
  const { source } = p;
  const [copied, setCopied] = useState<boolean | null>(null);
  const copy = () =>
    navigator.clipboard.writeText(source.secret).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  const event = '{"type":"customer.updated","interactionId":"<conversation id>","customer":{"tier":"gold"}}';
  return (
    <section class="card" aria-labelledby="secret-h">
      <h2 id="secret-h">{t('sources.secretTitle', { name: source.name })}</h2>
      <Alert accent="warning">{t('sources.secretOnce')}</Alert>
      {source.previousSecretValidUntil && (
        <Alert accent="info">{t('sources.overlap', { until: when(source.previousSecretValidUntil) })}</Alert>
      )}
      <label for="secret-value">{t('sources.secret')}</label>
      <div class="row">
        <input id="secret-value" class="mono grow" readOnly value={source.secret} />
        <Button accent="primary" onClick={copy}>
          {t('sources.copy')}
        </Button>
      </div>
      <p role="status">
        {copied === true ? t('sources.copied') : copied === false ? t('sources.copyFailed') : ''}
      </p>
      <p>
        {t('sources.ingestUrl')}: <code>{source.ingestUrl}</code>
      </p>
      {source.auth === 'bearer' ? (
        <>
          <h3>{t('sources.curl')}</h3>
          <pre>{`curl -X POST '${source.ingestUrl}' \\
  -H 'content-type: application/json' \\
  -H 'authorization: Bearer ${source.secret}' \\
  -H "idempotency-key: $(uuidgen)" \\
  -d '${event}'`}</pre>
          <p>{t('sources.bearerHelp')}</p>
        </>
      ) : (
        <>
          <h3>{t('sources.curl')}</h3>
          <p>{t('sources.swHelp')}</p>
          <pre>{`secret='${source.secret}'
id="msg_$(date +%s%N)"; ts=$(date +%s)
body='${event}'
key=$(printf '%s' "\${secret#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \\n')
sig=$(printf '%s' "$id.$ts.$body" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$key -binary | base64)
curl -X POST '${source.ingestUrl}' \\
  -H 'content-type: application/json' \\
  -H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" \\
  -d "$body"`}</pre>
          <h3>{t('sources.node')}</h3>
          <pre>{`import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const wh = new Webhook('${source.secret}');
const id = randomUUID();
const at = new Date();
const body = JSON.stringify(${event});
await fetch('${source.ingestUrl}', {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': wh.sign(id, at, body),
  },
  body,
});`}</pre>
        </>
      )}
      <Button onClick={p.onDone}>{t('sources.done')}</Button>
    </section>
  );
}
