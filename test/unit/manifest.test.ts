import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  loadManifest,
  MANIFEST_PATH,
  ManifestSchema,
  provisionedPermissions,
} from '../../src/tenants/manifest.js';
import { grants, roleFrom } from '../../src/tenants/permissions.js';

describe('manifest/app.json', () => {
  const manifest = loadManifest();

  it('validates, with the client application URL template of the contract', () => {
    expect(manifest.clientApplication.urlTemplate).toMatch(
      /\?gcHostOrigin=\{\{gcHostOrigin\}\}&gcTargetEnv=\{\{gcTargetEnv\}\}&langTag=\{\{gcLangTag\}\}$/,
    );
    expect(manifest.appPermissions.map((p) => [p.permission, p.role])).toEqual([
      ['integration:attributeRelay:admin', 'admin'],
      ['integration:attributeRelay:view', 'viewer'],
    ]);
  });

  it('provisions least privilege: reading conversations only (attribute PATCHes need no permission)', () => {
    expect(provisionedPermissions(manifest)).toEqual(['conversation:communication:view']);
    expect(manifest.install.oauthClient.authorizedGrantType).toBe('CLIENT-CREDENTIALS');
  });

  it('refuses a wildcard in the provisioned role', () => {
    const raw = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8'));
    raw.install.role.permissionPolicies = [{ domain: '*', entityName: '*', actionSet: ['*'] }];
    expect(ManifestSchema.safeParse(raw).success).toBe(false);
  });

  it.each([
    ['integration:attributeRelay:admin', 'integration:attributeRelay:admin', true],
    ['integration:*:*', 'integration:attributeRelay:view', true],
    ['*:*:*', 'integration:attributeRelay:admin', true],
    ['integration:attributeRelay:*', 'integration:attributeRelay:admin', true],
    ['integration:attributeRelay:view', 'integration:attributeRelay:admin', false],
    ['integration:attributeRelayX:admin', 'integration:attributeRelay:admin', false],
    ['integration:attributeRelay', 'integration:attributeRelay:admin', false],
    ['*', 'integration:attributeRelay:admin', false],
  ])('held %s grants %s: %s', (held, wanted, expected) => {
    expect(grants(held, wanted)).toBe(expected);
  });

  it('admin wins over viewer; neither gives no role', () => {
    expect(roleFrom(manifest, ['integration:attributeRelay:view', 'integration:*:admin'])).toBe('admin');
    expect(roleFrom(manifest, ['integration:attributeRelay:view'])).toBe('viewer');
    expect(roleFrom(manifest, ['routing:queue:view'])).toBeUndefined();
  });
});
