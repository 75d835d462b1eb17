import type { Config } from '../config.js';
import type { GenesysApi, GenesysClient } from '../genesys/client.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { LicenseStatus, TenantStore } from './store.js';

/** Installed orgs are re-read at least this often (and at each sign-in). */
export const LICENSE_RECHECK_MS = 6 * 3_600_000;
/** How often the unlicensed set is read again (what other instances found). */
const RELOAD_MS = 5_000;

/**
 * Premium apps are sold per org. With GENESYS_PRODUCT_ID set, an installed org whose products
 * no longer list it becomes `unlicensed` (audit `tenant.unlicensed`): ingest refuses its events
 * and delivery pauses, its data is kept; when the product returns, `tenant.relicensed` and work
 * resumes. Unset: nothing is checked (development orgs). The set of unlicensed orgs is held in
 * memory, loaded at start and every few seconds after (other instances record licences too).
 */
export class Licensing {
  private unlicensedOrgs = new Set<string>();
  /** The same set as a list, rebuilt only when it changes: delivery asks on every claim. */
  private unlicensedList: readonly string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reload: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly deps: {
      tenants: TenantStore;
      genesys: GenesysClient;
      config: Config;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  get productId(): string | undefined {
    return this.deps.config.genesys.productId;
  }

  isUnlicensed(orgId: string): boolean {
    return this.unlicensedOrgs.has(orgId);
  }

  unlicensed(): readonly string[] {
    return this.unlicensedList;
  }

  async load(): Promise<void> {
    this.unlicensedOrgs = new Set(await this.deps.tenants.unlicensed());
    this.unlicensedList = [...this.unlicensedOrgs];
  }

  /**
   * Reads the org's products with `api` (the signing-in user's token, or the org's own grant) and
   * records what it finds. A failed read changes nothing: Genesys being down is not a lost licence.
   */
  async check(orgId: string, api: GenesysApi): Promise<LicenseStatus | undefined> {
    const productId = this.productId;
    if (!productId) return undefined;
    const products = await api.products();
    if (products.kind !== 'ok') {
      this.deps.logger.warn('could not read the org’s products', { orgId, code: products.code });
      return undefined;
    }
    const tenant = await this.deps.tenants.get(orgId);
    if (!tenant) return undefined;
    const status: LicenseStatus = products.value.includes(productId) ? 'licensed' : 'unlicensed';
    const now = this.deps.clock.now();
    const changed = tenant.license.status !== status;
    await this.deps.tenants.recordLicense(
      orgId,
      status,
      now,
      changed
        ? {
            orgId,
            at: now,
            kind: status === 'unlicensed' ? 'tenant.unlicensed' : 'tenant.relicensed',
            actor: { type: 'system', job: 'licensing' },
            outcome: status,
            detail: { productId },
          }
        : undefined,
    );
    if (status === 'unlicensed') this.unlicensedOrgs.add(orgId);
    else this.unlicensedOrgs.delete(orgId);
    this.unlicensedList = [...this.unlicensedOrgs];
    if (changed) this.deps.logger.warn(`tenant.${status}`, { orgId, productId });
    return status;
  }

  /** Every org not read for LICENSE_RECHECK_MS, with its own grant. */
  async recheckDue(): Promise<void> {
    if (!this.productId) return;
    const due = await this.deps.tenants.licenseDue(this.deps.clock.now() - LICENSE_RECHECK_MS);
    for (const orgId of due) await this.check(orgId, this.deps.genesys.forOrg(orgId));
  }

  /**
   * Loads the unlicensed orgs, then re-reads those due every 15 minutes. The set is loaded again
   * every 5 s: another instance on the same database may have found a licence gone or back.
   */
  async start(): Promise<void> {
    await this.load();
    this.reload = setInterval(() => {
      this.load().catch((err: unknown) => this.deps.logger.error('could not load unlicensed orgs', { err }));
    }, RELOAD_MS);
    this.reload.unref();
    const kick = () => {
      this.running ??= this.recheckDue()
        .catch((err: unknown) => this.deps.logger.error('licence re-check failed', { err }))
        .finally(() => {
          this.running = undefined;
        });
    };
    kick();
    this.timer = setInterval(kick, 15 * 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.reload) clearInterval(this.reload);
    await this.running;
  }
}
