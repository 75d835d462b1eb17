import { AppError, conflict, forbidden } from '../lib/errors.js';
import type { TenancyDeps } from './deps.js';
import { userCallFailure } from './genesys-errors.js';
import { provisionGrant, verifyGrant } from './grant.js';
import { identifyUser } from './identify-user.js';
import { noProgress, type ProgressReporter } from './install-progress.js';
import type { Tenant } from './store.js';

export interface InstallInput {
  environment: string;
  userToken: string;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
}

/**
 * Installs attribute-relay into the admin's org, idempotently: an org already installed (from the
 * same environment) is returned as it is. With a client id and secret they are verified and
 * stored; without, the role and OAuth client are created in the org (the manifest's install).
 */
export async function installTenant(
  deps: TenancyDeps,
  input: InstallInput,
  progress: ProgressReporter = noProgress,
): Promise<{ tenant: Tenant; created: boolean }> {
  progress('checking', 'Checking who you are, your permissions and the org’s licence.');
  const user = await identifyUser(deps, input.environment, input.userToken);
  if (user.role !== 'admin')
    throw forbidden('Installing needs the integration:attributeRelay:admin permission.');
  await checkLicensed(deps, input.environment, input.userToken, user.orgName);
  const provided = input.clientId !== undefined;
  const existing = await deps.tenants.get(user.orgId);
  if (existing) {
    sameEnvironment(existing, input.environment);
    // Credentials given again are checked as on a first install: a wrong secret is never "fine".
    if (provided) await sameGrant(deps, existing, input, user.orgId);
    return { tenant: existing, created: false };
  }

  let grant: { clientId: string; clientSecret: string; roleId: string | null; divisionIds?: string[] };
  if (provided) {
    const credentials = {
      environment: input.environment,
      clientId: input.clientId!,
      clientSecret: input.clientSecret!,
    };
    await verifyGrant(deps, credentials, user.orgId);
    grant = { clientId: credentials.clientId, clientSecret: credentials.clientSecret, roleId: null };
  } else {
    grant = await provisionGrant(deps, user, input.userToken, progress);
  }

  const now = deps.clock.now();
  const divisions = grant.divisionIds
    ? { checkedAt: now, total: grant.divisionIds.length, missing: [] }
    : undefined;
  const created = await deps.tenants.install(
    {
      orgId: user.orgId,
      orgName: user.orgName,
      environment: input.environment,
      installedAt: now,
      grant: {
        clientId: grant.clientId,
        secretSealed: await deps.sealer.seal(user.orgId, grant.clientSecret),
        managed: !provided,
        managedRoleId: grant.roleId,
      },
      ...(divisions ? { divisions } : {}),
    },
    {
      orgId: user.orgId,
      at: now,
      kind: 'tenant.installed',
      actor: { type: 'user', id: user.id, name: user.name },
      outcome: 'ok',
      detail: {
        environment: input.environment,
        mode: provided ? 'given_credentials' : 'provisioned',
        clientId: grant.clientId,
        ...(grant.roleId ? { roleId: grant.roleId } : {}),
        ...(grant.divisionIds ? { divisions: grant.divisionIds.length } : {}),
      },
    },
  );
  deps.genesys.tokens.invalidate(user.orgId);
  // A client of the customer's own: show at once which divisions its roles do not reach.
  if (created && provided) await deps.divisionCoverage?.check(user.orgId);
  const tenant = await deps.tenants.get(user.orgId);
  if (!tenant) throw new AppError('internal', 'The tenant vanished right after install.');
  // Two installs raced and the other won: answer with its tenant (ours was not stored).
  return { tenant: created ? tenant : sameEnvironment(tenant, input.environment), created };
}

/**
 * Premium apps are sold per org: with GENESYS_PRODUCT_ID set, the org must list it in
 * `authorization/products` (which needs no permission), as the official sample's backend checks.
 * Checked before anything is created in the org.
 */
async function checkLicensed(deps: TenancyDeps, environment: string, userToken: string, orgName: string) {
  const productId = deps.config.genesys.productId;
  if (!productId) return;
  const products = await deps.genesys.withToken(environment, userToken).products();
  if (products.kind !== 'ok') throw userCallFailure(products, environment, 'list the org’s products');
  if (!products.value.includes(productId)) {
    throw new AppError(
      'not_licensed',
      `${orgName} has not bought attribute-relay: product ${productId} is not among its products in Genesys Cloud. Buy it on AppFoundry (or ask the vendor), then install again.`,
    );
  }
}

/** A re-install with credentials: valid, and the grant already in use (200), or a 422 / 409. */
async function sameGrant(deps: TenancyDeps, t: Tenant, input: InstallInput, orgId: string): Promise<void> {
  const credentials = {
    environment: input.environment,
    clientId: input.clientId!,
    clientSecret: input.clientSecret!,
  };
  await verifyGrant(deps, credentials, orgId);
  if (credentials.clientId !== t.grant.clientId) {
    throw conflict(
      `This org is installed with OAuth client ${t.grant.clientId}. To use ${credentials.clientId} instead, replace the grant with PUT /v1/grant.`,
    );
  }
}

function sameEnvironment(t: Tenant, environment: string): Tenant {
  if (t.environment !== environment) {
    throw conflict(`This org is installed from ${t.environment}, not ${environment}.`);
  }
  return t;
}
