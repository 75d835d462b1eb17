/** Does a held Genesys permission grant a required one? A `*` segment matches anything there. */
export function grants(held: string, required: string): boolean {
  const h = held.split(':');
  const r = required.split(':');
  if (h.length < r.length) return false;
  return r.every((seg, i) => h[i] === '*' || h[i] === seg);
}

export const APP_ADMIN = 'integration:attributeRelay:admin';
export const CREATE_CLIENT = [
  'authorization:role:view',
  'authorization:role:add',
  'authorization:grant:add',
  'oauth:client:add',
];

/** The required permissions none of the held ones grant. */
export function missing(held: readonly string[], required: readonly string[]): string[] {
  return required.filter((r) => !held.some((h) => grants(h, r)));
}
