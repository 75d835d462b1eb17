import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { type DiffLine, diffLines } from '../diff.js';
import { pretty, when } from '../format.js';
import { t } from '../i18n.js';
import { ErrorAlert } from '../ui/alert.js';
import { Select } from '../ui/field.js';
import { useLoad } from '../use-load.js';

type VersionInfo = { version: number; createdAt: string; createdBy: { name?: string } };

/** Version history, and a diff of any two versions. */
export function Versions(p: { id: string; latest: number }) {
  const list = useLoad(
    () => api.get<{ items: VersionInfo[] }>(`/v1/rules/${p.id}/versions`),
    [p.id, p.latest],
  );
  const [a, setA] = useState(String(Math.max(1, p.latest - 1)));
  const [b, setB] = useState(String(p.latest));
  const [diff, setDiff] = useState<DiffLine[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => setB(String(p.latest)), [p.latest]);
  useEffect(() => {
    const get = (n: string) =>
      api.get<{ rule: unknown }>(`/v1/rules/${p.id}/versions/${n}`).then((v) => pretty(v.rule));
    Promise.all([get(a), get(b)])
      .then(([x, y]) => setDiff(diffLines(x, y)))
      .catch(setError);
  }, [a, b, p.id]);
  const options = (list.data?.items ?? []).map((v) => ({
    value: String(v.version),
    label: `v${v.version} · ${when(v.createdAt)}${v.createdBy?.name ? ` · ${v.createdBy.name}` : ''}`,
  }));
  return (
    <section class="card" aria-labelledby="versions-h">
      <h2 id="versions-h">{t('versions.title')}</h2>
      <ErrorAlert error={list.error ?? error} />
      <div class="row wrap">
        <Select id="version-a" label={t('versions.from')} value={a} onInput={setA} options={options} />
        <Select id="version-b" label={t('versions.to')} value={b} onInput={setB} options={options} />
      </div>
      {diff && (
        <figure>
          <figcaption class="muted">{t('versions.diff')}</figcaption>
          <pre class="diff">
            {diff.map((l, i) => (
              <div key={i} class={l.kind}>
                {l.kind === 'added' ? '+ ' : l.kind === 'removed' ? '- ' : '  '}
                {l.text}
              </div>
            ))}
          </pre>
        </figure>
      )}
    </section>
  );
}
