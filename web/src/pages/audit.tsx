import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { storedSession } from '../auth.js';
import { download } from '../download.js';
import { pretty, when } from '../format.js';
import { t } from '../i18n.js';
import type { AuditItem, Page } from '../types.js';
import { ErrorAlert } from '../ui/alert.js';
import { Button, TextField } from '../ui/field.js';
import { useLoad } from '../use-load.js';
import { VerifyChain } from './audit-verify.js';
import type { PageProps } from './shell.js';

const FILTERS = ['kind', 'outcome', 'conversationId', 'ruleId', 'sourceId', 'from', 'to'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;
const NONE: Filters = {
  kind: '',
  outcome: '',
  conversationId: '',
  ruleId: '',
  sourceId: '',
  from: '',
  to: '',
};

/** The audit log with its filters and keyset paging; export links only when the server has them. */
export function Audit(p: PageProps) {
  const [draft, setDraft] = useState<Filters>(NONE);
  const [filters, setFilters] = useState<Filters>(NONE);
  const [items, setItems] = useState<AuditItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const params = (f: Filters) => ({
    ...f,
    from: f.from ? new Date(f.from).toISOString() : '',
    to: f.to ? new Date(f.to).toISOString() : '',
  });
  const first = useLoad(async () => {
    const page = await api.get<Page<AuditItem>>(`/v1/audit${query({ ...params(filters), limit: 50 })}`);
    setItems(page.items);
    setCursor(page.nextCursor);
    return page;
  }, [filters]);
  const more = async () => {
    const page = await api.get<Page<AuditItem>>(
      `/v1/audit${query({ ...params(filters), limit: 50, cursor })}`,
    );
    setItems([...items, ...page.items]);
    setCursor(page.nextCursor);
  };
  const [exportError, setExportError] = useState<unknown>(null);
  const exportAs = (format: 'ndjson' | 'csv') => {
    setExportError(null);
    const token = storedSession()?.session.token ?? '';
    download(`/v1/audit/export${query({ ...params(filters), format })}`, token).catch(setExportError);
  };

  return (
    <section aria-labelledby="audit-h">
      <h1 id="audit-h">{t('audit.title')}</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        {FILTERS.map((f) => (
          <TextField
            key={f}
            id={`audit-${f}`}
            label={t(`audit.${f}` as 'audit.kind')}
            value={draft[f]}
            placeholder={f === 'from' || f === 'to' ? '2026-11-25T12:00' : undefined}
            onInput={(v) => setDraft({ ...draft, [f]: v })}
          />
        ))}
        <div class="row">
          <Button accent="primary" onClick={() => setFilters(draft)}>
            {t('common.filter')}
          </Button>
          <Button
            onClick={() => {
              setDraft(NONE);
              setFilters(NONE);
            }}
          >
            {t('common.clear')}
          </Button>
        </div>
      </form>
      {p.cfg.features.auditExport && (
        <div class="row">
          <span>{t('audit.export')}:</span>
          {(['ndjson', 'csv'] as const).map((format) => (
            <Button key={format} onClick={() => exportAs(format)}>
              {t(format === 'csv' ? 'audit.csv' : 'audit.ndjson')}
            </Button>
          ))}
        </div>
      )}
      <ErrorAlert error={exportError} />
      <VerifyChain />
      <ErrorAlert error={first.error} />
      <gux-table>
        <table slot="data">
          <thead>
            <tr>
              <th scope="col">{t('audit.at')}</th>
              <th scope="col">{t('audit.kind')}</th>
              <th scope="col">{t('audit.outcome')}</th>
              <th scope="col">{t('audit.actor')}</th>
              <th scope="col">{t('audit.subject')}</th>
              <th scope="col">{t('audit.detail')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((a) => (
              <tr key={a.id} data-kind={a.kind}>
                <td>{when(a.at)}</td>
                <td>{a.kind}</td>
                <td>{a.outcome ?? '—'}</td>
                <td>{a.actor.name ?? a.actor.id ?? a.actor.type}</td>
                <td>
                  {a.eventId && <a href={`#/events/${a.eventId}`}>{a.eventId}</a>}
                  {a.conversationId && ` · ${t('events.conversationShort', { id: a.conversationId })}`}
                  {a.ruleIds.length > 0 && ` · ${a.ruleIds.join(', ')}`}
                </td>
                <td>
                  {Object.keys(a.detail).length > 0 && (
                    <details>
                      <summary>{t('audit.show')}</summary>
                      <pre>{pretty(a.detail)}</pre>
                    </details>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </gux-table>
      {first.data && items.length === 0 && <p>{t('audit.none')}</p>}
      {cursor && <Button onClick={more}>{t('common.more')}</Button>}
    </section>
  );
}
