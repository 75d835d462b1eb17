import { ENVIRONMENTS, type Environment, isEnvironment } from './regions.js';

/**
 * Which Genesys Cloud environment opened the admin page, from the Client Application URL's query
 * (shared with the browser bundle: no Node imports here).
 *
 * Genesys opens `{PUBLIC_URL}/?gcHostOrigin={{gcHostOrigin}}&gcTargetEnv={{gcTargetEnv}}&langTag=…`.
 * The environment is the hostname of `gcHostOrigin` without its `apps.` label
 * (`https://apps.mypurecloud.ie` → `mypurecloud.ie`), checked against the region table as the
 * client-app SDK does (`lookupGcEnv`). `gcTargetEnv` is an environment *name* (`prod-euw1`), not a
 * domain: when it is a name we know and names another environment, the pair is refused.
 */

/** Environment names, as Genesys' service discovery lists them (stable prod and FedRAMP). */
export const ENVIRONMENT_NAMES: Readonly<Record<string, Environment>> = {
  prod: 'mypurecloud.com',
  'prod-euw1': 'mypurecloud.ie',
  'prod-apse2': 'mypurecloud.com.au',
  'prod-apne1': 'mypurecloud.jp',
  'prod-euc1': 'mypurecloud.de',
  'prod-usw2': 'usw2.pure.cloud',
  'prod-cac1': 'cac1.pure.cloud',
  'prod-apne2': 'apne2.pure.cloud',
  'prod-euw2': 'euw2.pure.cloud',
  'prod-aps1': 'aps1.pure.cloud',
  'fedramp-use2-core': 'use2.us-gov-pure.cloud',
  'prod-sae1': 'sae1.pure.cloud',
  'prod-mec1': 'mec1.pure.cloud',
  'prod-apne3': 'apne3.pure.cloud',
  'prod-euc2': 'euc2.pure.cloud',
  'prod-mxc1': 'mxc1.pure.cloud',
  'prod-apse1': 'apse1.pure.cloud',
};

/**
 * Other domains an environment answers on (service discovery's `publicDomainAliases`; none are
 * published for the stable environments today). The key is the alias, the value the environment.
 */
export const ENVIRONMENT_ALIASES: Readonly<Record<string, Environment>> = {};

/** The origin Genesys Cloud's web app runs on for an environment (where our page is framed). */
export const appsOrigin = (env: Environment): string => `https://apps.${env}`;

/** Every Genesys apps origin of the region table: the page's `frame-ancestors`. */
export const APPS_ORIGINS: readonly string[] = ENVIRONMENTS.map(appsOrigin);

export type ClientAppEnv =
  | { kind: 'ok'; environment: Environment; langTag: string | undefined }
  /** Opened directly (no host origin): the page offers a picker. */
  | { kind: 'none'; langTag: string | undefined }
  | { kind: 'refused'; reason: string };

const LANG_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/;

/** Reads the query Genesys opened the page with (current and legacy parameter names). */
export function clientAppEnv(query: URLSearchParams): ClientAppEnv {
  const rawLang = query.get('langTag') ?? query.get('gcLangTag') ?? query.get('pcLangTag') ?? undefined;
  const langTag = rawLang && LANG_TAG.test(rawLang) ? rawLang : undefined;
  const hostOrigin = query.get('gcHostOrigin') ?? query.get('hostOrigin');
  const targetEnv = query.get('gcTargetEnv') ?? query.get('targetEnv');
  // Legacy `environment` / `pcEnvironment`: a domain such as mypurecloud.ie.
  const legacy = query.get('environment') ?? query.get('pcEnvironment');
  let environment: Environment | undefined;
  if (hostOrigin) {
    environment = environmentOfOrigin(hostOrigin);
    if (!environment) return { kind: 'refused', reason: `${hostOrigin} is not a Genesys Cloud apps origin.` };
  } else if (legacy) {
    environment = environmentOfDomain(legacy);
    if (!environment) return { kind: 'refused', reason: `${legacy} is not a Genesys Cloud environment.` };
  }
  if (!environment) return { kind: 'none', langTag };
  const named = targetEnv ? ENVIRONMENT_NAMES[targetEnv] : undefined;
  if (named && named !== environment) {
    return {
      kind: 'refused',
      reason: `gcTargetEnv ${targetEnv} is not the environment of ${hostOrigin ?? legacy}.`,
    };
  }
  return { kind: 'ok', environment, langTag };
}

/**
 * `https://apps.{env}` (an optional trailing slash, nothing else) → the environment. Anything
 * with a path, credentials, a port, plain http, or a host that merely starts with a known
 * domain (`apps.mypurecloud.com.evil.io`) is refused.
 */
export function environmentOfOrigin(origin: string): Environment | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.port) return undefined;
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) return undefined;
  if (origin.replace(/\/$/, '').toLowerCase() !== url.origin) return undefined;
  const host = url.hostname.toLowerCase();
  if (!host.startsWith('apps.')) return undefined;
  return environmentOfDomain(host.slice('apps.'.length));
}

/** A bare domain (`mypurecloud.ie`, or a published alias) → the environment. */
export function environmentOfDomain(domain: string): Environment | undefined {
  const d = domain.trim().toLowerCase();
  if (isEnvironment(d)) return d;
  return ENVIRONMENT_ALIASES[d];
}
