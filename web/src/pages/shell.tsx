import { api } from '../api.js';
import type { Signed } from '../auth.js';
import { t } from '../i18n.js';
import { useRoute } from '../route.js';
import type { Tenant, UiConfig } from '../types.js';
import { ErrorAlert } from '../ui/alert.js';
import { useLoad } from '../use-load.js';
import { Audit } from './audit.js';
import { EventDetailPage, Events } from './events.js';
import { Health } from './health.js';
import { LineagePage } from './lineage.js';
import { RuleEditor } from './rule-editor.js';
import { Rules } from './rules.js';
import { Settings } from './settings.js';
import { Sources } from './sources.js';

export interface PageProps {
  cfg: UiConfig;
  tenant: Tenant;
  /** Viewers see everything read-only: no write control is rendered for them. */
  canWrite: boolean;
  reloadTenant: () => void;
}

const NAV = [
  ['', 'nav.health'],
  ['sources', 'nav.sources'],
  ['rules', 'nav.rules'],
  ['events', 'nav.events'],
  ['lineage', 'nav.lineage'],
  ['audit', 'nav.audit'],
  ['settings', 'nav.settings'],
] as const;

export function Shell(p: {
  cfg: UiConfig;
  signed: Signed;
  onSignOut: () => void;
  onUninstalled: () => void;
  onSignIn: () => void;
}) {
  const route = useRoute();
  const tenant = useLoad(() => api.get<Tenant>('/v1/tenant'));
  const section = route[0] ?? '';
  const { session } = p.signed;
  return (
    <>
      <header class="top">
        <a class="skip" href="#main">
          {t('nav.skip')}
        </a>
        <strong class="brand">Attribute Relay</strong>
        <span>{tenant.data?.orgName}</span>
        <span class="spacer" />
        <span>
          {session.user.name} · {t(session.role === 'admin' ? 'role.admin' : 'role.viewer')}
        </span>
        <a href="/docs" target="_blank" rel="noreferrer">
          {t('nav.docs')}
        </a>
        <button type="button" class="link" onClick={p.onSignOut}>
          {t('nav.signOut')}
        </button>
      </header>
      <nav aria-label={t('nav.label')} class="tabs">
        {NAV.map(([path, key]) => (
          <a key={path} href={`#/${path}`} aria-current={section === path ? 'page' : undefined}>
            {t(key)}
          </a>
        ))}
      </nav>
      <main id="main">
        <ErrorAlert error={tenant.error} />
        {tenant.data && (
          <Page
            route={route}
            props={{
              cfg: p.cfg,
              tenant: tenant.data,
              canWrite: session.role === 'admin',
              reloadTenant: tenant.reload,
            }}
            onUninstalled={p.onUninstalled}
            onSignIn={p.onSignIn}
          />
        )}
      </main>
    </>
  );
}

function Page(p: { route: string[]; props: PageProps; onUninstalled: () => void; onSignIn: () => void }) {
  const [section, id] = p.route;
  switch (section) {
    case 'sources':
      return <Sources {...p.props} />;
    case 'rules':
      return id ? <RuleEditor {...p.props} id={id === 'new' ? null : id} /> : <Rules {...p.props} />;
    case 'events':
      return id ? <EventDetailPage {...p.props} id={id} /> : <Events {...p.props} />;
    case 'audit':
      return <Audit {...p.props} />;
    case 'lineage':
      return <LineagePage {...p.props} conversationId={id} />;
    case 'settings':
      return <Settings {...p.props} onUninstalled={p.onUninstalled} onSignIn={p.onSignIn} />;
    default:
      return <Health {...p.props} />;
  }
}
