import { useState } from 'preact/hooks';
import { rememberEnvironment, rememberedEnvironment } from '../auth.js';
import { t } from '../i18n.js';
import type { EnvironmentInfo, UiConfig } from '../types.js';
import { Alert, ErrorAlert } from '../ui/alert.js';
import { Button, Select } from '../ui/field.js';

/** The pages before sign-in: refused, not configured, the environment picker, failures. */

function Frame(p: { title: string; children: preact.ComponentChildren }) {
  return (
    <main class="narrow">
      <h1>{p.title}</h1>
      {p.children}
    </main>
  );
}

export function Refused(p: { reason: string }) {
  return (
    <Frame title={t('refused.title')}>
      <Alert accent="error">{p.reason}</Alert>
      <p>{t('refused.help')}</p>
    </Frame>
  );
}

export function Unconfigured(p: { cfg: UiConfig }) {
  return (
    <Frame title={t('unconfigured.title')}>
      <Alert accent="warning">{t('unconfigured.intro')}</Alert>
      <dl>
        {p.cfg.missing.map((m) => (
          <div key={m.variable}>
            <dt>
              <code>{m.variable}</code>
            </dt>
            <dd>{m.why}</dd>
          </div>
        ))}
        <dt>{t('unconfigured.redirect')}</dt>
        <dd>
          <code>{p.cfg.redirectUri}</code>
        </dd>
      </dl>
    </Frame>
  );
}

export function Picker(p: { cfg: UiConfig; onPick: (env: EnvironmentInfo) => void }) {
  const first = p.cfg.environments[0]?.environment ?? '';
  const remembered = rememberedEnvironment();
  const [env, setEnv] = useState(
    p.cfg.environments.some((e) => e.environment === remembered) ? remembered! : first,
  );
  const pick = () => {
    const chosen = p.cfg.environments.find((e) => e.environment === env);
    if (!chosen) return;
    rememberEnvironment(chosen.environment);
    p.onPick(chosen);
  };
  return (
    <Frame title={t('picker.title')}>
      <p>{t('picker.intro')}</p>
      <Select
        id="environment"
        label={t('picker.environment')}
        value={env}
        onInput={setEnv}
        options={p.cfg.environments.map((e) => ({
          value: e.environment,
          label: e.name ? `${e.environment} (${e.name})` : e.environment,
        }))}
      />
      <p>
        <Button accent="primary" onClick={pick}>
          {t('picker.signIn')}
        </Button>
      </p>
    </Frame>
  );
}

export function SignInFailed(p: { error: unknown; onRetry: () => void }) {
  return (
    <Frame title={t('failed.title')}>
      <ErrorAlert error={p.error} />
      <p>
        <Button accent="primary" onClick={p.onRetry}>
          {t('failed.retry')}
        </Button>
      </p>
    </Frame>
  );
}

export function Forbidden(p: { error: unknown }) {
  return (
    <Frame title={t('forbidden.title')}>
      <ErrorAlert error={p.error} />
      <p>{t('forbidden.help')}</p>
    </Frame>
  );
}
