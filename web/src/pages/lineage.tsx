import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { when } from '../format.js';
import { t } from '../i18n.js';
import { go } from '../route.js';
import { ErrorAlert } from '../ui/alert.js';
import { Button, TextField } from '../ui/field.js';
import { useLoad } from '../use-load.js';
import type { PageProps } from './shell.js';

interface Origin {
  value: string;
  at: string;
  eventId: string | null;
  sourceId: string | null;
  rule: { ruleId: string; version: number } | null;
  correlationId: string | null;
}
interface Lineage {
  participants: Array<{
    participantId: string | null;
    attributes: Array<Origin & { name: string; history: Origin[] }>;
  }>;
}

/** Why a participant has a value: each attribute we wrote, by which event, source and rule. */
export function LineagePage(p: PageProps & { conversationId: string | undefined }) {
  const [draft, setDraft] = useState(p.conversationId ?? '');
  const result = useLoad(
    () =>
      p.conversationId
        ? api.get<Lineage>(`/v1/lineage${query({ conversationId: p.conversationId })}`)
        : Promise.resolve(null),
    [p.conversationId],
  );
  return (
    <section aria-labelledby="lineage-h">
      <h1 id="lineage-h">{t('lineage.title')}</h1>
      <p>{t('lineage.intro')}</p>
      <form
        class="row wrap"
        onSubmit={(e) => {
          e.preventDefault();
          go(`lineage/${encodeURIComponent(draft.trim())}`);
        }}
      >
        <TextField
          id="lineage-conversation"
          label={t('events.conversation')}
          value={draft}
          onInput={setDraft}
        />
        <Button
          accent="primary"
          disabled={!draft.trim()}
          onClick={() => go(`lineage/${encodeURIComponent(draft.trim())}`)}
        >
          {t('lineage.show')}
        </Button>
      </form>
      <ErrorAlert error={result.error} />
      {result.data?.participants.length === 0 && <p>{t('lineage.none')}</p>}
      {result.data?.participants.map((part) => (
        <section key={part.participantId ?? 'unknown'} class="card">
          <h2>{t('lineage.participant', { id: part.participantId ?? '—' })}</h2>
          <gux-table>
            <table slot="data">
              <thead>
                <tr>
                  <th scope="col">{t('lineage.attribute')}</th>
                  <th scope="col">{t('lineage.value')}</th>
                  <th scope="col">{t('lineage.when')}</th>
                  <th scope="col">{t('lineage.from')}</th>
                  <th scope="col">{t('events.correlation')}</th>
                </tr>
              </thead>
              <tbody>
                {part.attributes.map((a) => (
                  <tr key={a.name} data-attribute={a.name}>
                    <td>{a.name}</td>
                    <td>
                      {a.value}
                      {a.history.length > 0 && (
                        <details>
                          <summary>{t('lineage.before', { n: a.history.length })}</summary>
                          <ul>
                            {a.history.map((h) => (
                              <li key={h.at + h.value}>
                                {h.value} · {when(h.at)}
                              </li>
                            ))}
                          </ul>
                        </details>
                      )}
                    </td>
                    <td>{when(a.at)}</td>
                    <td>
                      {a.eventId && <a href={`#/events/${a.eventId}`}>{a.eventId}</a>}
                      {a.rule && (
                        <>
                          {' · '}
                          <a href={`#/rules/${a.rule.ruleId}`}>
                            {t('lineage.rule', { id: a.rule.ruleId, version: a.rule.version })}
                          </a>
                        </>
                      )}
                    </td>
                    <td>
                      <code>{a.correlationId ?? '—'}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </gux-table>
        </section>
      ))}
    </section>
  );
}
