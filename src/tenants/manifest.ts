import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * manifest/app.json: the premium app's declaration, read once and validated. It names the app
 * permissions that become our roles and what install-without-credentials provisions in the org.
 */
const PERMISSION = /^[A-Za-z*][\w*]*:[A-Za-z*][\w*]*:[A-Za-z*][\w*]*$/;

const policy = z.object({
  domain: z.string().min(1),
  entityName: z.string().min(1),
  actionSet: z.array(z.string().min(1)).min(1),
});

export const ManifestSchema = z.object({
  name: z.string().min(1),
  description: z.string().min(1),
  integrationTypeId: z.string().min(1),
  clientApplication: z.object({
    urlTemplate: z
      .string()
      .includes('gcHostOrigin={{gcHostOrigin}}')
      .includes('gcTargetEnv={{gcTargetEnv}}')
      .includes('langTag={{gcLangTag}}'),
    displayType: z.enum(['standalone', 'widget']),
    featureCategory: z.string().min(1),
  }),
  appPermissions: z
    .array(
      z.object({
        permission: z.string().regex(PERMISSION),
        role: z.enum(['admin', 'viewer']),
        allows: z.string(),
      }),
    )
    .length(2),
  install: z.object({
    prefix: z.string().min(1),
    userPermissions: z.array(z.string().regex(PERMISSION)),
    uninstallUserPermissions: z.array(z.string().regex(PERMISSION)),
    role: z.object({
      name: z.string().min(1),
      description: z.string(),
      // Least privilege: never a wildcard (that would be Master Admin, or a whole domain).
      permissionPolicies: z
        .array(policy.refine((p) => ![p.domain, p.entityName, ...p.actionSet].includes('*')))
        .min(1),
    }),
    oauthClient: z.object({
      name: z.string().min(1),
      description: z.string(),
      authorizedGrantType: z.literal('CLIENT-CREDENTIALS'),
      accessTokenValiditySeconds: z.number().int().min(300).max(172800),
    }),
  }),
});

export type Manifest = z.infer<typeof ManifestSchema>;

export const MANIFEST_PATH = fileURLToPath(new URL('../../manifest/app.json', import.meta.url));

export function loadManifest(path = MANIFEST_PATH): Manifest {
  return ManifestSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

/** The held permission strings → our role. */
export function permissionFor(manifest: Manifest, role: 'admin' | 'viewer'): string {
  const p = manifest.appPermissions.find((x) => x.role === role);
  if (!p) throw new Error(`manifest has no ${role} permission`);
  return p.permission;
}

/** The role's permissions as `domain:entity:action` strings. */
export function provisionedPermissions(manifest: Manifest): string[] {
  return manifest.install.role.permissionPolicies.flatMap((p) =>
    p.actionSet.map((a) => `${p.domain}:${p.entityName}:${a}`),
  );
}
