import type { GenesysClient } from '../genesys/client.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { TenantStore } from './store.js';

/** Which of the org's divisions the grant's roles reach, as last read. */
export interface DivisionCoverage {
  checkedAt: number;
  /** Divisions the org has. */
  total: number;
  /** Divisions none of the grant's roles is granted in: conversations there are out of reach. */
  missing: { id: string; name: string | null }[];
}

/** A reading this fresh is reused instead of asking Genesys again (a refusal burst costs 2 calls). */
export const COVERAGE_FRESH_MS = 5 * 60_000;

/**
 * Client-credentials roles are scoped to divisions (the Home division unless the client's
 * roleDivisions say otherwise, shared/genesys §12.1). With the grant's own token, `tokens/me`
 * names its roleDivisions and `authorization/divisions` the org's divisions; both need no
 * permission. The difference is what the tenant health shows and what a refused delivery names.
 */
export class DivisionCoverageCheck {
  constructor(
    private readonly deps: { tenants: TenantStore; genesys: GenesysClient; clock: Clock; logger: Logger },
  ) {}

  /** Reads and records it; undefined when Genesys did not say (nothing is recorded then). */
  async check(orgId: string): Promise<DivisionCoverage | undefined> {
    const api = this.deps.genesys.forOrg(orgId);
    const [me, divisions] = await Promise.all([api.tokensMe(), api.divisions()]);
    if (me.kind !== 'ok' || divisions.kind !== 'ok') {
      const code = me.kind !== 'ok' ? me.code : divisions.kind !== 'ok' ? divisions.code : '';
      this.deps.logger.warn('could not read the grant’s divisions', { orgId, code });
      return undefined;
    }
    const roleDivisions = me.value.OAuthClient?.roleDivisions;
    // A Genesys that does not list them tells us nothing: never claim a division is missing.
    if (!roleDivisions) return undefined;
    const granted = new Set(roleDivisions.map((rd) => rd.divisionId));
    const coverage: DivisionCoverage = {
      checkedAt: this.deps.clock.now(),
      total: divisions.value.length,
      missing: divisions.value
        .filter((d) => !granted.has(d.id))
        .map((d) => ({ id: d.id, name: d.name ?? null })),
    };
    await this.deps.tenants.recordDivisions(orgId, coverage);
    return coverage;
  }

  /**
   * The recorded reading if fresh, else a new one (or the old one when Genesys does not say, or
   * `reserve` — the org's request budget — says no).
   */
  async current(
    orgId: string,
    reserve: () => Promise<boolean> = async () => true,
  ): Promise<DivisionCoverage | undefined> {
    const recorded = (await this.deps.tenants.get(orgId))?.grant.divisions ?? undefined;
    if (recorded && recorded.checkedAt + COVERAGE_FRESH_MS > this.deps.clock.now()) return recorded;
    if (!(await reserve())) return recorded;
    return (await this.check(orgId)) ?? recorded;
  }
}

/** The sentence a refused delivery and the health page show. */
export function divisionAdvice(missing: DivisionCoverage['missing'], managed: boolean): string {
  const names = missing.map((d) => d.name ?? d.id).join(', ');
  const fix = managed
    ? 'Re-grant divisions from the health page (POST /v1/grant/divisions) to add them.'
    : 'In Genesys Cloud, give the OAuth client’s role those divisions (Admin > OAuth > Roles), or install without credentials so attribute-relay manages its own client.';
  return `The OAuth client's roles do not reach the division(s) ${names}, so conversations there cannot be read. ${fix}`;
}
