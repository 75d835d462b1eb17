import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { when } from '../format.js';
import { t } from '../i18n.js';
import type { Backtest, RuleBody } from '../types.js';
import { ErrorAlert } from '../ui/alert.js';
import { Button, TextField } from '../ui/field.js';

/** Backtest: what this draft would have done to the last N events of its source. */
export function BacktestPanel(p: { rule: RuleBody }) {
  const [recent, setRecent] = useState('100');
  const [result, setResult] = useState<Backtest['backtest'] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    setError(null);
    setResult(null);
    try {
      setResult(
        (await api.post<Backtest>('/v1/rules/test', { rule: p.rule, recent: Number(recent) })).backtest,
      );
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section class="card" aria-labelledby="back-h">
      <h2 id="back-h">{t('backtest.title')}</h2>
      <p>{t('backtest.intro')}</p>
      <div class="row wrap">
        <TextField
          id="backtest-n"
          type="number"
          min={1}
          max={1000}
          label={t('backtest.recent')}
          value={recent}
          onInput={setRecent}
          help={t('backtest.limit')}
        />
      </div>
      <Button accent="primary" onClick={run}>
        {t('backtest.run')}
      </Button>
      <ErrorAlert error={error} />
      {result && (
        <div aria-live="polite" class="result" data-testid="backtest-result">
          <p>
            <strong>
              {t('backtest.summary', {
                considered: result.considered,
                matched: result.matched,
                missed: result.missed,
              })}
            </strong>
          </p>
          {result.attributes.length > 0 && (
            <gux-table>
              <table slot="data">
                <caption>{t('backtest.attributes')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('backtest.attribute')}</th>
                    <th scope="col">{t('backtest.events')}</th>
                    <th scope="col">{t('backtest.samples')}</th>
                  </tr>
                </thead>
                <tbody>
                  {result.attributes.map((a) => (
                    <tr key={a.name}>
                      <td>{a.name}</td>
                      <td>{a.events}</td>
                      <td>{a.sampleValues.join(', ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </gux-table>
          )}
          {result.samples.missed.length > 0 && (
            <>
              <h3>{t('backtest.missedSamples')}</h3>
              <ul>
                {result.samples.missed.map((m) => (
                  <li key={m.eventId}>
                    <a href={`#/events/${m.eventId}`}>{when(m.receivedAt)}</a>: {m.reasons.join('; ')}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </section>
  );
}
