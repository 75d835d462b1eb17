import { useEffect, useState } from 'preact/hooks';
import { ApiError, fetchOrProblem, readJson } from '../api.js';
import { userToken } from '../auth.js';
import { t } from '../i18n.js';
import { APP_ADMIN, CREATE_CLIENT, missing } from '../permissions.js';
import type { EnvironmentInfo } from '../types.js';
import { Alert, ErrorAlert, fieldErrors } from '../ui/alert.js';
import { Button, TextField } from '../ui/field.js';

/** GET /v1/install/progress/{requestId}. */
interface InstallProgress {
  step: string;
  message: string;
  waitedMs: number;
  timeoutMs: number;
}

/**
 * First run: the org is not installed. Check the admin's Genesys permissions first (what is
 * missing, in Genesys' words), then install: we create the OAuth client, or the admin gives one.
 */
export function Install(p: {
  env: EnvironmentInfo;
  onInstalled: (token: string) => void;
  onSignIn: () => void;
}) {
  const token = userToken();
  const [held, setHeld] = useState<string[] | null>(null);
  const [readError, setReadError] = useState<unknown>(null);
  const [busy, setBusy] = useState<'create' | 'given' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [progress, setProgress] = useState<InstallProgress | null>(null);

  useEffect(() => {
    if (!token) return;
    fetchOrProblem(`${p.env.apiUrl}/api/v2/users/me?expand=authorization`, {
      headers: { authorization: `Bearer ${token}` },
    })
      .then((res) => readJson<{ authorization?: { permissions?: string[] } }>(res))
      .then((me) => setHeld(me.authorization?.permissions ?? []))
      .catch(setReadError);
  }, [token]);

  if (!token) {
    return (
      <main class="narrow">
        <h1>{t('install.title')}</h1>
        <p>{t('install.signInFirst')}</p>
        <Button accent="primary" onClick={p.onSignIn}>
          {t('picker.signIn')}
        </Button>
      </main>
    );
  }

  const lackAdmin = held ? missing(held, [APP_ADMIN]) : [];
  const lackCreate = held ? missing(held, CREATE_CLIENT) : [];
  const install = async (mode: 'create' | 'given') => {
    setBusy(mode);
    setError(null);
    setProgress(null);
    // Our own request id: the server files the install's progress under it while we wait.
    const requestId = `install-${crypto.randomUUID()}`;
    const poll = setInterval(() => {
      fetch(`/v1/install/progress/${requestId}`)
        .then((res) => (res.ok ? (res.json() as Promise<InstallProgress>) : null))
        .then((got) => got && setProgress(got))
        .catch(() => {});
    }, 1_000);
    try {
      const body =
        mode === 'create'
          ? { environment: p.env.environment }
          : { environment: p.env.environment, clientId, clientSecret };
      const res = await fetchOrProblem('/v1/install', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'x-request-id': requestId,
        },
        body: JSON.stringify(body),
      });
      await readJson(res);
      p.onInstalled(token);
    } catch (e) {
      setError(e);
    } finally {
      clearInterval(poll);
      setBusy(null);
      setProgress(null);
    }
  };
  const errs = fieldErrors(error);

  return (
    <main class="narrow">
      <h1>{t('install.title')}</h1>
      <p>{t('install.intro', { env: p.env.environment })}</p>
      <section aria-labelledby="perm-h">
        <h2 id="perm-h">{t('install.permissions')}</h2>
        {!held && !readError && <p>{t('common.loading')}</p>}
        {readError instanceof ApiError && (
          <Alert accent="warning">{t('install.cannotRead', { detail: readError.message })}</Alert>
        )}
        {held && lackAdmin.length === 0 && lackCreate.length === 0 && (
          <Alert accent="success">{t('install.allHeld')}</Alert>
        )}
        {held && (lackAdmin.length > 0 || lackCreate.length > 0) && (
          <Alert accent="warning">
            {t('install.missing')}
            <ul>
              {[...lackAdmin, ...lackCreate].map((perm) => (
                <li key={perm}>
                  <code>{perm}</code>{' '}
                  {lackAdmin.includes(perm) ? t('install.neededAlways') : t('install.neededCreate')}
                </li>
              ))}
            </ul>
          </Alert>
        )}
      </section>
      {busy && (
        <div role="status" class="row">
          <gux-radial-loading context="input" screenreader-text={t('install.running')} />
          <span>{progress?.message ?? t('install.running')}</span>
          {progress?.step === 'waiting_for_role' && (
            <span class="muted">
              {t('install.waited', {
                waited: Math.round(progress.waitedMs / 1000),
                timeout: Math.round(progress.timeoutMs / 1000),
              })}
            </span>
          )}
        </div>
      )}
      <ErrorAlert error={error} />
      <section aria-labelledby="create-h" class="card">
        <h2 id="create-h">{t('install.createTitle')}</h2>
        <p>{t('install.createHelp')}</p>
        <Button
          accent="primary"
          disabled={busy !== null || lackAdmin.length > 0 || lackCreate.length > 0}
          onClick={() => install('create')}
        >
          {t('install.createButton')}
        </Button>
      </section>
      <form
        aria-labelledby="given-h"
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          void install('given');
        }}
      >
        <h2 id="given-h">{t('install.givenTitle')}</h2>
        <p>{t('install.givenHelp')}</p>
        <TextField
          id="clientId"
          label={t('install.clientId')}
          value={clientId}
          onInput={setClientId}
          error={errs.clientId}
        />
        <TextField
          id="clientSecret"
          type="password"
          label={t('install.clientSecret')}
          value={clientSecret}
          onInput={setClientSecret}
          error={errs.clientSecret}
        />
        <Button
          disabled={busy !== null || lackAdmin.length > 0 || !clientId || !clientSecret}
          onClick={() => install('given')}
        >
          {t('install.givenButton')}
        </Button>
      </form>
    </main>
  );
}
