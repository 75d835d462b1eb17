import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { Alert, ErrorAlert, fieldErrors } from '../ui/alert.js';
import { Button, TextField } from '../ui/field.js';
import type { PageProps } from './shell.js';

/** Replace the client-credentials grant (PUT /v1/grant): verified with Genesys before it is kept. */
export function ReplaceGrant(p: PageProps) {
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const replace = async () => {
    setError(null);
    setDone(false);
    try {
      await api.put('/v1/grant', { clientId, clientSecret });
      setDone(true);
      setClientSecret('');
      p.reloadTenant();
    } catch (e) {
      setError(e);
    }
  };
  const errs = fieldErrors(error);
  return (
    <form
      class="card"
      aria-labelledby="grant-h"
      onSubmit={(e) => {
        e.preventDefault();
        void replace();
      }}
    >
      <h2 id="grant-h">{t('grant.title')}</h2>
      <p>{t('grant.help', { id: p.tenant.grant.clientId })}</p>
      <TextField
        id="grant-clientId"
        label={t('install.clientId')}
        value={clientId}
        onInput={setClientId}
        error={errs.clientId}
      />
      <TextField
        id="grant-clientSecret"
        type="password"
        label={t('install.clientSecret')}
        value={clientSecret}
        onInput={setClientSecret}
        error={errs.clientSecret}
      />
      <ErrorAlert error={error} />
      {done && <Alert accent="success">{t('grant.done')}</Alert>}
      <Button disabled={!clientId || !clientSecret} onClick={replace}>
        {t('grant.button')}
      </Button>
    </form>
  );
}
