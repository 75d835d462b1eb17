import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { userToken } from '../auth.js';
import { ago, duration } from '../format.js';
import { t } from '../i18n.js';
import type { Tenant } from '../types.js';
import { Alert, ErrorAlert } from '../ui/alert.js';
import { Button } from '../ui/field.js';
import type { PageProps } from './shell.js';

/** Home: is delivery healthy, in plain words (from GET /v1/tenant). */
export function Health(p: PageProps) {
  // Keep the numbers fresh while the admin looks at them.
  useEffect(() => {
    const timer = setInterval(p.reloadTenant, 10_000);
    return () => clearInterval(timer);
  }, []);
  const { grant, delivery, settings } = p.tenant;
  const unlicensed = p.tenant.license?.status === 'unlicensed';
  const outOfReach = grant.divisions?.missing ?? [];
  const healthy =
    !unlicensed &&
    grant.status === 'ok' &&
    outOfReach.length === 0 &&
    (delivery.oldestPendingAgeMs ?? 0) < 5 * 60_000;
  return (
    <section aria-labelledby="health-h">
      <h1 id="health-h">{t('health.title')}</h1>
      <Alert accent={healthy ? 'success' : 'warning'}>
        <strong>{healthy ? t('health.healthy') : t('health.attention')}</strong>
        {unlicensed && <p>{t('health.unlicensed')}</p>}
        {grant.divisions?.advice && <p>{grant.divisions.advice}</p>}
      </Alert>
      {outOfReach.length > 0 && grant.managed && p.canWrite && <Regrant reload={p.reloadTenant} />}
      <dl class="facts">
        <dt>{t('health.grant')}</dt>
        <dd>
          {grantWords(p.tenant)}
          {grant.lastError && (
            <>
              {' '}
              — <span class="muted">{grant.lastError}</span>
            </>
          )}
        </dd>
        <dt>{t('health.divisions')}</dt>
        <dd>{divisionWords(p.tenant)}</dd>
        <dt>{t('health.token')}</dt>
        <dd>
          {grant.lastTokenAt ? t('health.tokenAge', { ago: ago(grant.lastTokenAt) }) : t('health.noToken')}
        </dd>
        <dt>{t('health.backlog')}</dt>
        <dd>{backlogWords(p.tenant)}</dd>
        <dt>{t('health.lastApplied')}</dt>
        <dd>{ago(delivery.lastAppliedAt)}</dd>
        <dt>{t('health.lastRateLimited')}</dt>
        <dd>{ago(delivery.lastRateLimitedAt)}</dd>
        <dt>{t('health.budget')}</dt>
        <dd>{t('health.budgetValue', { n: settings.requestsPerMinute })}</dd>
        <dt>{t('health.environment')}</dt>
        <dd>
          {p.tenant.environment} ·{' '}
          {t(grant.managed ? 'health.managed' : 'health.given', { id: grant.clientId })}
        </dd>
      </dl>
    </section>
  );
}

/** POST /v1/grant/divisions, with the admin's own Genesys token (our grant cannot edit clients). */
function Regrant(p: { reload: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const token = userToken();
  if (!token) return <p>{t('health.regrantNeedsSignIn')}</p>;
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.post('/v1/grant/divisions', undefined, { 'x-genesys-token': token });
      p.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="row">
      <Button accent="primary" disabled={busy} onClick={run}>
        {t('health.regrant')}
      </Button>
      {busy && <span role="status">{t('health.regranting')}</span>}
      <ErrorAlert error={error} />
    </div>
  );
}

function divisionWords(tenant: Tenant): string {
  const d = tenant.grant.divisions;
  if (!d) return t('health.divisionsUnknown');
  if (d.missing.length === 0) return t('health.divisionsAll', { n: d.total });
  return t('health.divisionsMissing', { names: d.missing.map((m) => m.name ?? m.id).join(', ') });
}

function grantWords(tenant: Tenant): string {
  switch (tenant.grant.status) {
    case 'ok':
      return t('health.grantOk');
    case 'invalid_credentials':
      return t('health.grantInvalid');
    case 'wrong_org':
      return t('health.grantWrongOrg');
    default:
      return t('health.grantUnreachable');
  }
}

function backlogWords(tenant: Tenant): string {
  const { pending, oldestPendingAgeMs } = tenant.delivery;
  if (pending === 0) return t('health.nothingWaiting');
  return t(pending === 1 ? 'health.waitingOne' : 'health.waiting', {
    n: pending,
    age: duration(oldestPendingAgeMs ?? 0),
  });
}
