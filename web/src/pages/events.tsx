import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { pretty, when } from '../format.js';
import { t } from '../i18n.js';
import type { EventDetail, EventSummary, Outcome, Page } from '../types.js';
import { Alert, ErrorAlert } from '../ui/alert.js';
import { Confirm } from '../ui/dialog.js';
import { Button, TextField } from '../ui/field.js';
import { useLoad } from '../use-load.js';
import type { PageProps } from './shell.js';

// gux-badge accents: info, success, warning, error, inherit.
const ACCENT: Record<Outcome, string> = {
  pending: 'info',
  unmatched: 'inherit',
  applied: 'success',
  skipped: 'inherit',
  retrying: 'warning',
  failed: 'error',
  mixed: 'warning',
};

export function OutcomeBadge({ outcome }: { outcome: Outcome }) {
  return (
    <gux-badge accent={ACCENT[outcome] ?? 'inherit'} data-outcome={outcome}>
      {t(`outcome.${outcome}` as 'outcome.applied')}
    </gux-badge>
  );
}

/** Recent events, newest first, with their outcome; filter by conversation. */
export function Events(_p: PageProps) {
  const [conversationId, setConversationId] = useState('');
  const [filter, setFilter] = useState('');
  const [pages, setPages] = useState<EventSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const first = useLoad(async () => {
    const page = await api.get<Page<EventSummary>>(
      `/v1/events${query({ conversationId: filter, limit: 50 })}`,
    );
    setPages(page.items);
    setCursor(page.nextCursor);
    return page;
  }, [filter]);
  // While something is still on its way, look again every few seconds.
  const moving = pages.some((e) => e.outcome === 'pending' || e.outcome === 'retrying');
  useEffect(() => {
    if (!moving) return;
    const timer = setTimeout(first.reload, 3_000);
    return () => clearTimeout(timer);
  }, [moving, pages]);
  const more = async () => {
    const page = await api.get<Page<EventSummary>>(
      `/v1/events${query({ conversationId: filter, limit: 50, cursor })}`,
    );
    setPages([...pages, ...page.items]);
    setCursor(page.nextCursor);
  };
  return (
    <section aria-labelledby="events-h">
      <h1 id="events-h">{t('events.title')}</h1>
      <form
        class="row wrap"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter(conversationId.trim());
        }}
      >
        <TextField
          id="events-conversation"
          label={t('events.conversation')}
          value={conversationId}
          onInput={setConversationId}
        />
        <Button onClick={() => setFilter(conversationId.trim())}>{t('common.filter')}</Button>
        <Button accent="ghost" onClick={() => first.reload()}>
          {t('common.refresh')}
        </Button>
      </form>
      {filter && (
        <p>
          <a href={`#/lineage/${encodeURIComponent(filter)}`}>{t('events.lineage')}</a>
        </p>
      )}
      <ErrorAlert error={first.error} />
      {/* Empty: one plain sentence, not the table's own "No data available" beside it. */}
      {pages.length > 0 && (
        <gux-table>
          <table slot="data">
            <thead>
              <tr>
                <th scope="col">{t('events.received')}</th>
                <th scope="col">{t('events.outcome')}</th>
                <th scope="col">{t('events.id')}</th>
                <th scope="col">{t('events.conversations')}</th>
                <th scope="col">{t('events.replays')}</th>
              </tr>
            </thead>
            <tbody>
              {pages.map((e) => (
                <tr key={e.id} data-event={e.id}>
                  <td>{when(e.receivedAt)}</td>
                  <td>
                    <OutcomeBadge outcome={e.outcome} />
                  </td>
                  <td>
                    <a href={`#/events/${e.id}`}>{e.id}</a>
                  </td>
                  <td>{e.conversationIds.join(', ')}</td>
                  <td>{e.replays}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </gux-table>
      )}
      {first.data && pages.length === 0 && <p>{t('events.none')}</p>}
      {cursor && <Button onClick={more}>{t('common.more')}</Button>}
    </section>
  );
}

/** One event's timeline: received → matched → each attempt → outcome; replay for admins. */
export function EventDetailPage(p: PageProps & { id: string }) {
  const detail = useLoad(() => api.get<EventDetail>(`/v1/events/${p.id}`), [p.id]);
  const [confirm, setConfirm] = useState(false);
  const [replayed, setReplayed] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const replay = async () => {
    setConfirm(false);
    try {
      await api.post(`/v1/events/${p.id}/replay`);
      setReplayed(true);
      detail.reload();
    } catch (e) {
      setError(e);
    }
  };
  const d = detail.data;
  return (
    <section aria-labelledby="event-h">
      <p>
        <a href="#/events">{t('events.back')}</a>
      </p>
      <h1 id="event-h">{t('events.detailTitle', { id: p.id })}</h1>
      <ErrorAlert error={detail.error ?? error} />
      {replayed && <Alert accent="success">{t('events.replayed')}</Alert>}
      {d && (
        <>
          <p>
            {t('events.state', { state: d.event.state, replays: d.event.replays })}{' '}
            <Button accent="ghost" onClick={detail.reload}>
              {t('common.refresh')}
            </Button>
          </p>
          {p.canWrite && <Button onClick={() => setConfirm(true)}>{t('events.replay')}</Button>}
          <h2>{t('events.timeline')}</h2>
          <ol class="timeline">
            {d.history.map((h) => (
              <li key={h.id} data-kind={h.kind}>
                <strong>{h.kind}</strong> · {when(h.at)}
                {h.outcome && ` · ${h.outcome}`}
                {h.conversationId && ` · ${t('events.conversationShort', { id: h.conversationId })}`}
              </li>
            ))}
          </ol>
          <h2>{t('events.deliveries')}</h2>
          {d.deliveries.length === 0 && <p>{t('events.noDeliveries')}</p>}
          <ul>
            {d.deliveries.map((x) => (
              <li key={x.jobId} data-delivery={x.status}>
                <strong>{x.status}</strong>
                {x.attempts > 0 && ` · ${t('events.deliveryAttempts', { n: x.attempts })}`}
                {x.nextAttemptAt && ` · ${t('events.nextAttempt', { at: when(x.nextAttemptAt) })}`}
                {x.lastError && ` · ${x.lastError}`}
                <pre>{pretty({ target: x.target, attributes: x.attributes })}</pre>
              </li>
            ))}
          </ul>
          <h2>{t('events.attempts')}</h2>
          <gux-table>
            <table slot="data">
              <thead>
                <tr>
                  <th scope="col">{t('events.at')}</th>
                  <th scope="col">{t('events.operation')}</th>
                  <th scope="col">{t('events.status')}</th>
                  <th scope="col">{t('events.outcome')}</th>
                  <th scope="col">{t('events.correlation')}</th>
                </tr>
              </thead>
              <tbody>
                {d.attempts.map((a, i) => (
                  <tr key={i}>
                    <td>{when(a.at)}</td>
                    <td>{a.operation}</td>
                    <td>{a.status ?? '—'}</td>
                    <td>
                      {a.outcome}
                      {a.code && ` (${a.code})`}
                    </td>
                    <td>
                      <code>{a.correlationId ?? '—'}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </gux-table>
          <h2>{t('events.body')}</h2>
          <pre>{pretty(d.event.body)}</pre>
        </>
      )}
      {confirm && (
        <Confirm
          title={t('events.replayTitle')}
          action={t('events.replay')}
          onConfirm={replay}
          onCancel={() => setConfirm(false)}
        >
          <p>{t('events.replayBody')}</p>
        </Confirm>
      )}
    </section>
  );
}
