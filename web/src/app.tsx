import { useEffect, useState } from 'preact/hooks';
import { clientAppEnv } from '../../src/genesys/client-app-env.js';
import { ApiError, api, configureApi } from './api.js';
import {
  openSession,
  rememberedEnvironment,
  type Signed,
  setUserToken,
  storedSession,
  storeSession,
} from './auth.js';
import { setLang, t } from './i18n.js';
import { Install } from './pages/install.js';
import { Shell } from './pages/shell.js';
import { Forbidden, Picker, Refused, SignInFailed, Unconfigured } from './pages/start.js';
import { finishLogin, isLoginReturn, startLogin } from './pkce.js';
import type { EnvironmentInfo, UiConfig } from './types.js';

/**
 * The page's states before the admin pages: read the config, finish a login round trip, or work
 * out the environment (from Genesys' query, else a picker) and sign in with PKCE; then our own
 * session, or the install page when the org is not installed yet.
 */
type Phase =
  | { kind: 'loading' }
  | { kind: 'refused'; reason: string }
  | { kind: 'unconfigured' }
  | { kind: 'picker' }
  | { kind: 'failed'; error: unknown; env?: EnvironmentInfo }
  | { kind: 'forbidden'; error: unknown }
  | { kind: 'install'; env: EnvironmentInfo }
  | { kind: 'ready'; signed: Signed };

let reauthenticating = false;

export function App() {
  const [cfg, setCfg] = useState<UiConfig | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  const query = new URLSearchParams(location.search);
  const opened = clientAppEnv(query);
  const langTag = opened.kind === 'refused' ? undefined : opened.langTag;

  const envOf = (c: UiConfig, name: string) => c.environments.find((e) => e.environment === name);
  const signIn = (c: UiConfig, env: EnvironmentInfo) => {
    setPhase({ kind: 'loading' });
    void startLogin(c, env, langTag);
  };

  /** A session for the signed-in Genesys user, or the install page when the org has none yet. */
  const sessionFor = async (c: UiConfig, env: EnvironmentInfo, token: string) => {
    try {
      const session = await openSession(env.environment, token);
      const signed = { session, environment: env.environment };
      storeSession(signed);
      setPhase({ kind: 'ready', signed });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) setPhase({ kind: 'install', env });
      else if (e instanceof ApiError && e.status === 403) setPhase({ kind: 'forbidden', error: e });
      else setPhase({ kind: 'failed', error: e, env });
    }
    void c;
  };

  useEffect(() => {
    setLang(langTag);
    void (async () => {
      const c = await api.get<UiConfig>('/v1/ui-config');
      setCfg(c);
      configureApi({
        session: () => storedSession()?.session ?? null,
        // Our session expired mid-work: sign in again; the hash route comes back after the trip.
        onExpired: () => {
          if (reauthenticating) return; // several requests may see the same expiry
          reauthenticating = true;
          const env = envOf(c, storedSession()?.environment ?? rememberedEnvironment() ?? '');
          storeSession(null);
          if (env) signIn(c, env);
        },
      });
      if (isLoginReturn()) {
        try {
          const login = await finishLogin(c);
          setLang(login.langTag);
          setUserToken(login.accessToken);
          await sessionFor(c, envOf(c, login.environment)!, login.accessToken);
        } catch (e) {
          setPhase({ kind: 'failed', error: e });
        }
        return;
      }
      const stored = storedSession();
      // A session from another environment than the one Genesys opened us in is not this one.
      const sameEnv = opened.kind !== 'ok' || stored?.environment === opened.environment;
      if (stored && sameEnv) return setPhase({ kind: 'ready', signed: stored });
      if (opened.kind === 'refused') return setPhase({ kind: 'refused', reason: opened.reason });
      if (!c.oauthClientId) return setPhase({ kind: 'unconfigured' });
      if (opened.kind === 'ok') {
        const env = envOf(c, opened.environment);
        if (env) return signIn(c, env);
      }
      setPhase({ kind: 'picker' });
    })().catch((e) => setPhase({ kind: 'failed', error: e }));
  }, []);

  if (!cfg || phase.kind === 'loading') return <Loading />;
  switch (phase.kind) {
    case 'refused':
      return <Refused reason={phase.reason} />;
    case 'unconfigured':
      return <Unconfigured cfg={cfg} />;
    case 'picker':
      return <Picker cfg={cfg} onPick={(env) => signIn(cfg, env)} />;
    case 'failed':
      return <SignInFailed error={phase.error} onRetry={() => setPhase({ kind: 'picker' })} />;
    case 'forbidden':
      return <Forbidden error={phase.error} />;
    case 'install':
      return (
        <Install
          env={phase.env}
          onInstalled={(token) => sessionFor(cfg, phase.env, token)}
          onSignIn={() => signIn(cfg, phase.env)}
        />
      );
    case 'ready':
      return (
        <Shell
          cfg={cfg}
          signed={phase.signed}
          onSignOut={() => {
            storeSession(null);
            setUserToken(null);
            setPhase({ kind: 'picker' });
          }}
          onUninstalled={() => {
            storeSession(null);
            const env = envOf(cfg, phase.signed.environment);
            setPhase(env ? { kind: 'install', env } : { kind: 'picker' });
          }}
          onSignIn={() => {
            const env = envOf(cfg, phase.signed.environment);
            if (env) signIn(cfg, env);
          }}
        />
      );
  }
}

function Loading() {
  return (
    <main class="centered" aria-busy="true">
      <gux-radial-loading context="full-page" screenreader-text={t('common.loading')} />
    </main>
  );
}
