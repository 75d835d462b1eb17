import type { PermissionPolicy } from './types.js';

/** `{domain, entityName, actionSet}` → `domain:entityName:action` strings (how Genesys lists them). */
export function expandPolicies(policies: readonly PermissionPolicy[]): string[] {
  return unique(policies.flatMap((p) => p.actionSet.map((a) => `${p.domain}:${p.entityName}:${a}`)));
}

/**
 * The reverse, so a role created from plain permission strings still has policies to show.
 * Anything after the second ':' is the action (division-suffixed strings keep their suffix).
 */
export function permissionsToPolicies(permissions: readonly string[]): PermissionPolicy[] {
  const byEntity = new Map<string, PermissionPolicy>();
  for (const perm of permissions) {
    const [domain = '*', entityName = '*', ...rest] = perm.split(':');
    const action = rest.length > 0 ? rest.join(':') : '*';
    const key = `${domain}:${entityName}`;
    const policy = byEntity.get(key) ?? { domain, entityName, actionSet: [] };
    if (!policy.actionSet.includes(action)) policy.actionSet.push(action);
    byEntity.set(key, policy);
  }
  return [...byEntity.values()];
}

/** Does one held permission grant `required`? `*` in any held segment matches anything there. */
export function grants(held: string, required: string): boolean {
  if (held === '*') return true;
  const h = held.split(':');
  const r = required.split(':');
  return r.every((segment, i) => h[i] === '*' || h[i] === segment);
}

export function holdsPermission(held: readonly string[], required: string): boolean {
  return held.some((p) => grants(p, required));
}

export function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
