import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { Alert, ErrorAlert } from '../ui/alert.js';
import { Button } from '../ui/field.js';

interface Verdict {
  ok: boolean;
  rows: number;
  checkpoints: number;
  firstMismatch?: { seq: number | null; id: string | null; reason: string };
}

/** Tamper evidence: GET /v1/audit/verify walks the org's hash chain and its signed checkpoints. */
export function VerifyChain() {
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [error, setError] = useState<unknown>(null);
  const verify = async () => {
    setError(null);
    setVerdict(null);
    try {
      setVerdict(await api.get<Verdict>('/v1/audit/verify'));
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="row wrap">
      <Button onClick={verify}>{t('audit.verify')}</Button>
      <ErrorAlert error={error} />
      {verdict?.ok && (
        <Alert accent="success">
          {t('audit.verified', { rows: verdict.rows, checkpoints: verdict.checkpoints })}
        </Alert>
      )}
      {verdict && !verdict.ok && (
        <Alert accent="error">
          {t('audit.tampered', {
            id: verdict.firstMismatch?.id ?? '—',
            reason: verdict.firstMismatch?.reason ?? '',
          })}
        </Alert>
      )}
    </div>
  );
}
