import type { Config } from '../config.js';
import type { Sealer } from '../crypto/secrets.js';
import { newBearerToken } from '../ingest/bearer.js';
import type { SourceCache } from '../ingest/source-cache.js';
import { newWebhookSecret } from '../ingest/standard-webhooks.js';
import { notFound } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import type { RequestContext } from '../tenants/context.js';
import type { Source, SourceAuth, SourceStore } from './store.js';

export interface SourcesDeps {
  config: Config;
  sources: SourceStore;
  sealer: Sealer;
  sourceCache: SourceCache;
}

/** After a rotation the previous secret keeps working this long. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

const newSecret = (auth: SourceAuth) =>
  auth === 'standard-webhooks' ? newWebhookSecret() : newBearerToken();

/** The API shape, never with a secret (creation and rotation add theirs). */
export function sourceView(config: Config, s: Source) {
  return {
    id: s.id,
    name: s.name,
    auth: s.auth,
    ingestUrl: `${config.http.publicUrl}/v1/hooks/${s.id}`,
    createdAt: new Date(s.createdAt).toISOString(),
    rotatedAt: s.rotatedAt === null ? null : new Date(s.rotatedAt).toISOString(),
    previousSecretValidUntil:
      s.previousValidUntil === null ? null : new Date(s.previousValidUntil).toISOString(),
  };
}

/** The org's source or 404: another org's id is never found. */
export async function getSourceInOrg(deps: SourcesDeps, ctx: RequestContext, id: string): Promise<Source> {
  const source = await deps.sources.get(ctx.tenant.orgId, id);
  if (!source) throw notFound('No such source in your org.');
  return source;
}

export async function createSource(
  deps: SourcesDeps,
  ctx: RequestContext,
  input: { name: string; auth: SourceAuth },
) {
  const orgId = ctx.tenant.orgId;
  const secret = newSecret(input.auth);
  const source: Source = {
    id: newId('src', ctx.now),
    orgId,
    name: input.name,
    auth: input.auth,
    secretSealed: await deps.sealer.seal(orgId, secret),
    previousSecretSealed: null,
    previousValidUntil: null,
    createdAt: ctx.now,
    rotatedAt: null,
  };
  await deps.sources.create(source, {
    orgId,
    at: ctx.now,
    kind: 'source.created',
    actor: ctx.actor,
    sourceId: source.id,
    outcome: 'ok',
    detail: { name: input.name, auth: input.auth },
  });
  return { ...sourceView(deps.config, source), secret };
}

export async function rotateSource(deps: SourcesDeps, ctx: RequestContext, id: string) {
  const source = await getSourceInOrg(deps, ctx, id);
  const secret = newSecret(source.auth);
  const rotated: Source = {
    ...source,
    secretSealed: await deps.sealer.seal(source.orgId, secret),
    // Only the secret in use until now stays valid; one rotated away earlier stops now.
    previousSecretSealed: source.secretSealed,
    previousValidUntil: ctx.now + ROTATION_OVERLAP_MS,
    rotatedAt: ctx.now,
  };
  await deps.sources.rotate(source.orgId, id, rotated, {
    orgId: source.orgId,
    at: ctx.now,
    kind: 'source.rotated',
    actor: ctx.actor,
    sourceId: id,
    outcome: 'ok',
    detail: { previousSecretValidUntil: new Date(rotated.previousValidUntil!).toISOString() },
  });
  deps.sourceCache.invalidate(id);
  return { ...sourceView(deps.config, rotated), secret };
}

export async function deleteSource(deps: SourcesDeps, ctx: RequestContext, id: string): Promise<void> {
  const source = await getSourceInOrg(deps, ctx, id);
  await deps.sources.delete(source.orgId, id, {
    orgId: source.orgId,
    at: ctx.now,
    kind: 'source.deleted',
    actor: ctx.actor,
    sourceId: id,
    outcome: 'ok',
    detail: { name: source.name },
  });
  deps.sourceCache.invalidate(id);
}
