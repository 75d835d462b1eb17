/**
 * Genesys Cloud environments (the SDKs' region table, shared/genesys §1). An environment is the
 * domain part: the login host is `login.{env}`, the API host `api.{env}`. Only these are ever
 * contacted: an admin could otherwise point us at a host of their own and claim any org.
 */
export const ENVIRONMENTS = [
  'mypurecloud.com', // us_east_1
  'mypurecloud.ie', // eu_west_1
  'mypurecloud.com.au', // ap_southeast_2
  'mypurecloud.jp', // ap_northeast_1
  'mypurecloud.de', // eu_central_1
  'usw2.pure.cloud', // us_west_2
  'cac1.pure.cloud', // ca_central_1
  'apne2.pure.cloud', // ap_northeast_2
  'euw2.pure.cloud', // eu_west_2
  'aps1.pure.cloud', // ap_south_1
  'use2.us-gov-pure.cloud', // us_east_2 (FedRAMP)
  'sae1.pure.cloud', // sa_east_1
  'mec1.pure.cloud', // me_central_1
  'apne3.pure.cloud', // ap_northeast_3
  'euc2.pure.cloud', // eu_central_2
  'mxc1.pure.cloud', // mx_central_1
  'apse1.pure.cloud', // ap_southeast_1
  'edee1.eusc-pure.cloud', // eusc_de_east_1
] as const;

export type Environment = (typeof ENVIRONMENTS)[number];

const KNOWN: ReadonlySet<string> = new Set(ENVIRONMENTS);

export function isEnvironment(value: string): value is Environment {
  return KNOWN.has(value);
}

export interface Hosts {
  /** Base of `/oauth/token`. */
  readonly login: string;
  /** Base of `/api/v2/...`. */
  readonly api: string;
}

/**
 * The hosts of a listed environment, or `undefined` for anything else. With `baseUrl` (the
 * `GENESYS_BASE_URL` override: the emulator or a test double) every listed environment resolves
 * to that one base; an unlisted one is still refused.
 */
export function hostsFor(environment: string, baseUrl?: string): Hosts | undefined {
  if (!isEnvironment(environment)) return undefined;
  if (baseUrl) return { login: baseUrl, api: baseUrl };
  return { login: `https://login.${environment}`, api: `https://api.${environment}` };
}
