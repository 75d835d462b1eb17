/** A lone UTF-16 surrogate (no pair). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text every backend stores and reads back unchanged: a lone surrogate (which UTF-8 cannot hold)
 * and NUL (which PostgreSQL text cannot) become U+FFFD. Both arrive in valid JSON (`"\ud800"`,
 * `"\u0000"`); a value hashed into the audit chain must be the value read back, or the chain
 * would not verify.
 */
export function storableText(s: string): string {
  // Almost every value is already storable: two native checks instead of two regex passes.
  if (!s.includes('\0') && (s as WellFormed).isWellFormed()) return s;
  return s.replace(LONE_SURROGATE, '\ufffd').replaceAll('\0', '\ufffd');
}

/** ES2024 (Node 20 has it; the ES2023 lib this project compiles against does not declare it). */
type WellFormed = string & { isWellFormed(): boolean };
