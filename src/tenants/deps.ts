import type { AuditStore } from '../audit/store.js';
import type { Config } from '../config.js';
import type { Sealer } from '../crypto/secrets.js';
import type { Sessions } from '../crypto/sessions.js';
import type { GenesysClient } from '../genesys/client.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { DivisionCoverageCheck } from './division-coverage.js';
import type { InstallProgress } from './install-progress.js';
import type { Licensing } from './licensing.js';
import type { Manifest } from './manifest.js';
import type { TenantStore } from './store.js';
import type { DeliveryView } from './view.js';

/** What the tenancy verbs use; a subset of the app's dependencies. */
export interface TenancyDeps {
  config: Config;
  clock: Clock;
  logger: Logger;
  genesys: GenesysClient;
  tenants: TenantStore;
  audit: AuditStore;
  sealer: Sealer;
  sessions: Sessions;
  manifest: Manifest;
  /** Licence checks (GENESYS_PRODUCT_ID): at each sign-in. */
  licensing?: Licensing;
  /** The grant's division coverage: read at install, sign-in and re-grant. */
  divisionCoverage?: DivisionCoverageCheck;
  /** Progress of running installs, for the admin UI. */
  installProgress?: InstallProgress;
  /** The live delivery block of GET /v1/tenant. */
  deliveryStats?: (orgId: string, now: number) => Promise<DeliveryView>;
}
