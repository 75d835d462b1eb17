import { type Manifest, permissionFor } from './manifest.js';

export type Role = 'admin' | 'viewer';

/**
 * Whether a held Genesys permission grants `wanted` (`domain:entity:action`). A `*` segment in the
 * held one matches anything there (`integration:*:*`, `*:*:*`); held strings may carry more
 * segments after the three (division-scoped forms), which do not narrow what they grant here.
 */
export function grants(held: string, wanted: string): boolean {
  const h = held.split(':');
  const w = wanted.split(':');
  if (h.length < 3 || w.length !== 3) return false;
  return w.every((segment, i) => h[i] === '*' || h[i] === segment);
}

/** The role the user's permissions give in attribute-relay, if any; admin wins. */
export function roleFrom(manifest: Manifest, permissions: readonly string[]): Role | undefined {
  const admin = permissionFor(manifest, 'admin');
  const view = permissionFor(manifest, 'viewer');
  if (permissions.some((p) => grants(p, admin))) return 'admin';
  if (permissions.some((p) => grants(p, view))) return 'viewer';
  return undefined;
}
