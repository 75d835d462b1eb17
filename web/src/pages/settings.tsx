import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { userToken } from '../auth.js';
import { t } from '../i18n.js';
import { Alert, ErrorAlert, fieldErrors } from '../ui/alert.js';
import { Confirm } from '../ui/dialog.js';
import { Button, Select, TextField } from '../ui/field.js';
import { ReplaceGrant } from './grant.js';
import type { PageProps } from './shell.js';

/** The org's settings (with their limits) and uninstall behind a typed confirmation. */
export function Settings(p: PageProps & { onUninstalled: () => void; onSignIn: () => void }) {
  const s = p.tenant.settings;
  const [rpm, setRpm] = useState(String(s.requestsPerMinute));
  const [retention, setRetention] = useState(String(s.auditRetentionDays));
  const [ended, setEnded] = useState(s.endedParticipants ?? 'skip');
  const [maxLength, setMaxLength] = useState(String(s.maxAttributeValueLength ?? ''));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const save = async () => {
    setError(null);
    setSaved(false);
    try {
      await api.patch('/v1/tenant', {
        settings: {
          requestsPerMinute: Number(rpm),
          auditRetentionDays: Number(retention),
          // Sent only where the server knows the setting.
          ...(s.endedParticipants !== undefined ? { endedParticipants: ended } : {}),
          ...(s.maxAttributeValueLength !== undefined ? { maxAttributeValueLength: Number(maxLength) } : {}),
        },
      });
      setSaved(true);
      p.reloadTenant();
    } catch (e) {
      setError(e);
    }
  };
  const errs = fieldErrors(error);
  return (
    <section aria-labelledby="settings-h">
      <h1 id="settings-h">{t('settings.title')}</h1>
      <fieldset disabled={!p.canWrite} class="form">
        <legend>{t('settings.delivery')}</legend>
        <TextField
          id="requestsPerMinute"
          type="number"
          min={1}
          max={6000}
          label={t('settings.rpm')}
          help={t('settings.rpmHelp')}
          value={rpm}
          onInput={setRpm}
          error={errs['settings.requestsPerMinute']}
        />
        <TextField
          id="auditRetentionDays"
          type="number"
          min={1}
          max={3650}
          label={t('settings.retention')}
          help={t('settings.retentionHelp')}
          value={retention}
          onInput={setRetention}
          error={errs['settings.auditRetentionDays']}
        />
        {s.endedParticipants !== undefined && (
          <Select
            id="endedParticipants"
            label={t('settings.ended')}
            value={ended}
            onInput={setEnded}
            options={[
              { value: 'skip', label: t('settings.endedSkip') },
              { value: 'patch-until-conversation-ends', label: t('settings.endedPatch') },
            ]}
            error={errs['settings.endedParticipants']}
          />
        )}
        {s.maxAttributeValueLength !== undefined && (
          <TextField
            id="maxAttributeValueLength"
            type="number"
            min={1}
            max={100_000}
            label={t('settings.maxLength')}
            help={t('settings.maxLengthHelp')}
            value={maxLength}
            onInput={setMaxLength}
            error={errs['settings.maxAttributeValueLength']}
          />
        )}
      </fieldset>
      {p.canWrite && (
        <p>
          <Button accent="primary" onClick={save}>
            {t('settings.save')}
          </Button>
        </p>
      )}
      {saved && <Alert accent="success">{t('settings.saved')}</Alert>}
      <ErrorAlert error={error} />
      {p.canWrite && <ReplaceGrant {...p} />}
      {p.canWrite && <Uninstall {...p} />}
    </section>
  );
}

function Uninstall(p: PageProps & { onUninstalled: () => void; onSignIn: () => void }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const managed = p.tenant.grant.managed;
  const token = userToken();
  const run = async () => {
    setOpen(false);
    setError(null);
    try {
      await api.del('/v1/tenant', managed && token ? { 'x-genesys-token': token } : {});
      p.onUninstalled();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section class="card danger-zone" aria-labelledby="uninstall-h">
      <h2 id="uninstall-h">{t('uninstall.title')}</h2>
      <p>{t('uninstall.what')}</p>
      {managed && <p>{t('uninstall.managed', { id: p.tenant.grant.clientId })}</p>}
      <ErrorAlert error={error} />
      {managed && !token ? (
        <>
          <Alert accent="info">{t('uninstall.needToken')}</Alert>
          <Button onClick={p.onSignIn}>{t('uninstall.signIn')}</Button>
        </>
      ) : (
        <Button accent="danger" onClick={() => setOpen(true)}>
          {t('uninstall.button')}
        </Button>
      )}
      {open && (
        <Confirm
          title={t('uninstall.confirmTitle', { org: p.tenant.orgName })}
          action={t('uninstall.button')}
          danger
          typeToConfirm={p.tenant.orgName}
          onConfirm={run}
          onCancel={() => setOpen(false)}
        >
          <p>{t('uninstall.what')}</p>
        </Confirm>
      )}
    </section>
  );
}
