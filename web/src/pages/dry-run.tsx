import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { pretty } from '../format.js';
import { t } from '../i18n.js';
import type { DryRun, EventDetail, EventSummary, Page, RuleBody, Source } from '../types.js';
import { ErrorAlert } from '../ui/alert.js';
import { Button, Select, TextArea } from '../ui/field.js';
import { useLoad } from '../use-load.js';

const SAMPLE = { type: 'customer.updated', interactionId: '<conversation id>', customer: { tier: 'gold' } };

/** Dry run: this draft with the org's other rules against one event (pasted, or a recent one). */
export function DryRunPanel(p: { rule: RuleBody; sources: Source[] }) {
  const recent = useLoad(
    () => api.get<Page<EventSummary>>(`/v1/events${query({ sourceId: p.rule.sourceId, limit: 20 })}`),
    [p.rule.sourceId],
  );
  const [event, setEvent] = useState(pretty(SAMPLE));
  const [sourceId, setSourceId] = useState<string>('');
  const [picked, setPicked] = useState('');
  const [result, setResult] = useState<DryRun | null>(null);
  const [error, setError] = useState<unknown>(null);

  const pick = async (id: string) => {
    setPicked(id);
    if (!id) return;
    try {
      const detail = await api.get<EventDetail>(`/v1/events/${id}`);
      setEvent(pretty(detail.event.body));
      setSourceId(detail.event.sourceId);
    } catch (e) {
      setError(e);
    }
  };
  const run = async () => {
    setError(null);
    setResult(null);
    let parsed: unknown;
    try {
      parsed = JSON.parse(event);
    } catch (e) {
      setError(new Error(t('dryRun.badJson', { detail: (e as Error).message })));
      return;
    }
    const src = sourceId || p.rule.sourceId || undefined;
    try {
      setResult(
        await api.post<DryRun>('/v1/rules/test', {
          event: parsed,
          rule: p.rule,
          ...(src ? { sourceId: src } : {}),
        }),
      );
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section class="card" aria-labelledby="dry-h">
      <h2 id="dry-h">{t('dryRun.title')}</h2>
      <p>{t('dryRun.intro')}</p>
      <div class="row wrap">
        <Select
          id="dry-recent"
          label={t('dryRun.recent')}
          value={picked}
          onInput={pick}
          options={[
            { value: '', label: t('dryRun.paste') },
            ...(recent.data?.items ?? []).map((e) => ({
              value: e.id,
              label: `${new Date(e.receivedAt).toLocaleString()} · ${e.id}`,
            })),
          ]}
        />
        <Select
          id="dry-source"
          label={t('dryRun.source')}
          value={sourceId}
          onInput={setSourceId}
          options={[
            { value: '', label: t('dryRun.ruleSource') },
            ...p.sources.map((s) => ({ value: s.id, label: s.name })),
          ]}
        />
      </div>
      <TextArea id="dry-event" label={t('dryRun.event')} rows={8} value={event} onInput={setEvent} />
      <Button accent="primary" onClick={run}>
        {t('dryRun.run')}
      </Button>
      <ErrorAlert error={error} />
      {result && <DryRunResult result={result} />}
    </section>
  );
}

function DryRunResult({ result }: { result: DryRun }) {
  return (
    <div aria-live="polite" class="result" data-testid="dry-run-result">
      <h3>{t('dryRun.matches', { n: result.matches.length })}</h3>
      <ul>
        {result.matches.map((m) => (
          <li key={m.ruleId}>
            <strong>{m.name}</strong> (v{m.version})
            {m.dropped.length > 0 && (
              <ul>
                {m.dropped.map((d) => (
                  <li key={d.attribute}>
                    {t('dryRun.dropped', { attribute: d.attribute, reason: d.reason })} — {d.detail}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
      {result.patches.map((patch, i) => (
        <div key={i}>
          <h3>
            {t('dryRun.patch', {
              conversation: patch.target.conversationId,
              participant: JSON.stringify(patch.target.participant),
            })}
          </h3>
          <pre>{pretty(patch.body)}</pre>
        </div>
      ))}
      {result.patches.length === 0 && <p>{t('dryRun.noPatch')}</p>}
      <h3>{t('dryRun.misses', { n: result.misses.length })}</h3>
      <ul>
        {result.misses.map((m) => (
          <li key={m.ruleId}>
            <strong>{m.name}</strong>: {t(`miss.${m.reason}` as 'miss.conditions')}
            {m.detail && ` — ${m.detail}`}
            {m.miss !== undefined && <pre>{pretty(m.miss)}</pre>}
          </li>
        ))}
      </ul>
    </div>
  );
}
