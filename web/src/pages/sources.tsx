import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { when } from '../format.js';
import { t } from '../i18n.js';
import type { Source } from '../types.js';
import { ErrorAlert, fieldErrors } from '../ui/alert.js';
import { Confirm } from '../ui/dialog.js';
import { Button, Select, TextField } from '../ui/field.js';
import { useLoad } from '../use-load.js';
import type { PageProps } from './shell.js';
import { SecretPanel } from './source-secret.js';

type Pending = { kind: 'rotate' | 'delete'; source: Source } | null;

export function Sources(p: PageProps) {
  const list = useLoad(() => api.get<{ items: Source[] }>('/v1/sources'));
  const [shown, setShown] = useState<(Source & { secret: string }) | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [error, setError] = useState<unknown>(null);

  const act = async () => {
    if (!pending) return;
    const { kind, source } = pending;
    setPending(null);
    setError(null);
    try {
      if (kind === 'delete') await api.del(`/v1/sources/${source.id}`);
      else setShown(await api.post<Source & { secret: string }>(`/v1/sources/${source.id}/rotate`));
      list.reload();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section aria-labelledby="sources-h">
      <h1 id="sources-h">{t('sources.title')}</h1>
      <p>{t('sources.intro')}</p>
      <ErrorAlert error={list.error ?? error} />
      {shown && <SecretPanel source={shown} onDone={() => setShown(null)} />}
      {p.canWrite && !shown && (
        <NewSource
          onCreated={(s) => {
            setShown(s);
            list.reload();
          }}
        />
      )}
      <gux-table>
        <table slot="data">
          <thead>
            <tr>
              <th scope="col">{t('sources.name')}</th>
              <th scope="col">{t('sources.auth')}</th>
              <th scope="col">{t('sources.ingestUrl')}</th>
              <th scope="col">{t('sources.created')}</th>
              <th scope="col">{t('sources.rotated')}</th>
              {p.canWrite && <th scope="col">{t('common.actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((s) => (
              <tr key={s.id}>
                <td>{s.name}</td>
                <td>{t(s.auth === 'bearer' ? 'sources.bearer' : 'sources.standardWebhooks')}</td>
                <td>
                  <code>{s.ingestUrl}</code>
                </td>
                <td>{when(s.createdAt)}</td>
                <td>
                  {when(s.rotatedAt)}
                  {s.previousSecretValidUntil &&
                    ` · ${t('sources.previousUntil', { until: when(s.previousSecretValidUntil) })}`}
                </td>
                {p.canWrite && (
                  <td class="row">
                    <Button
                      label={t('sources.rotateNamed', { name: s.name })}
                      onClick={() => setPending({ kind: 'rotate', source: s })}
                    >
                      {t('sources.rotate')}
                    </Button>
                    <Button
                      accent="danger"
                      label={t('sources.deleteNamed', { name: s.name })}
                      onClick={() => setPending({ kind: 'delete', source: s })}
                    >
                      {t('common.delete')}
                    </Button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </gux-table>
      {list.data?.items.length === 0 && <p>{t('sources.none')}</p>}
      {pending && (
        <Confirm
          title={t(pending.kind === 'delete' ? 'sources.deleteTitle' : 'sources.rotateTitle', {
            name: pending.source.name,
          })}
          action={t(pending.kind === 'delete' ? 'common.delete' : 'sources.rotate')}
          danger={pending.kind === 'delete'}
          onConfirm={act}
          onCancel={() => setPending(null)}
        >
          <p>{t(pending.kind === 'delete' ? 'sources.deleteBody' : 'sources.rotateBody')}</p>
        </Confirm>
      )}
    </section>
  );
}

function NewSource(p: { onCreated: (s: Source & { secret: string }) => void }) {
  const [name, setName] = useState('');
  const [auth, setAuth] = useState<'standard-webhooks' | 'bearer'>('standard-webhooks');
  const [error, setError] = useState<unknown>(null);
  const create = async () => {
    setError(null);
    try {
      p.onCreated(await api.post<Source & { secret: string }>('/v1/sources', { name, auth }));
      setName('');
    } catch (e) {
      setError(e);
    }
  };
  const errs = fieldErrors(error);
  return (
    <section class="card" aria-labelledby="new-source-h">
      <h2 id="new-source-h">{t('sources.new')}</h2>
      <div class="row wrap">
        <TextField
          id="source-name"
          label={t('sources.name')}
          value={name}
          onInput={setName}
          error={errs.name}
        />
        <Select
          id="source-auth"
          label={t('sources.auth')}
          value={auth}
          onInput={(v) => setAuth(v as typeof auth)}
          options={[
            { value: 'standard-webhooks', label: t('sources.standardWebhooks') },
            { value: 'bearer', label: t('sources.bearer') },
          ]}
        />
      </div>
      {!errs.name && <ErrorAlert error={error} />}
      <Button accent="primary" disabled={!name.trim()} onClick={create}>
        {t('sources.create')}
      </Button>
    </section>
  );
}
