import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';
import type { Source, StoredRule } from '../types.js';
import { ErrorAlert } from '../ui/alert.js';
import { Button } from '../ui/field.js';
import { useLoad } from '../use-load.js';
import type { PageProps } from './shell.js';

export function Rules(p: PageProps) {
  const rules = useLoad(() => api.get<{ items: StoredRule[] }>('/v1/rules'));
  const sources = useLoad(() => api.get<{ items: Source[] }>('/v1/sources'));
  const [error, setError] = useState<unknown>(null);
  const sourceName = (id: string | null) =>
    id ? (sources.data?.items.find((s) => s.id === id)?.name ?? id) : t('rules.anySource');

  // One click: PUT the rule as it is, with enabled flipped (a new version, like any save).
  const toggle = async (rule: StoredRule) => {
    setError(null);
    const { id, version, createdAt, updatedAt, ...body } = rule;
    try {
      await api.put(`/v1/rules/${id}`, { ...body, enabled: !rule.enabled });
      rules.reload();
    } catch (e) {
      setError(e);
    }
    void version;
    void createdAt;
    void updatedAt;
  };

  return (
    <section aria-labelledby="rules-h">
      <h1 id="rules-h">{t('rules.title')}</h1>
      <p>{t('rules.intro')}</p>
      <ErrorAlert error={rules.error ?? error} />
      {p.canWrite && (
        <p>
          <a class="button-link" href="#/rules/new">
            {t('rules.new')}
          </a>
        </p>
      )}
      <gux-table>
        <table slot="data">
          <thead>
            <tr>
              <th scope="col">{t('rules.name')}</th>
              <th scope="col">{t('rules.enabled')}</th>
              <th scope="col">{t('rules.priority')}</th>
              <th scope="col">{t('rules.source')}</th>
              <th scope="col">{t('rules.version')}</th>
              {p.canWrite && <th scope="col">{t('common.actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {rules.data?.items.map((r) => (
              <tr key={r.id}>
                <td>
                  <a href={`#/rules/${r.id}`}>{r.name}</a>
                </td>
                <td>{r.enabled ? t('rules.on') : t('rules.off')}</td>
                <td>{r.priority}</td>
                <td>{sourceName(r.sourceId)}</td>
                <td>{r.version}</td>
                {p.canWrite && (
                  <td>
                    <Button
                      label={t(r.enabled ? 'rules.disableNamed' : 'rules.enableNamed', { name: r.name })}
                      onClick={() => toggle(r)}
                    >
                      {t(r.enabled ? 'rules.disable' : 'rules.enable')}
                    </Button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </gux-table>
      {rules.data?.items.length === 0 && <p>{t('rules.none')}</p>}
    </section>
  );
}
