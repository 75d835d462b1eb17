import { en } from './i18n/en.js';

/**
 * Every string of the page, in one catalog per language keyed by Genesys' `langTag`. English is
 * complete; another language may cover part of it, and any key it lacks falls back to English.
 */
export type Key = keyof typeof en;
type Catalog = Partial<Record<Key, string>>;

const CATALOGS: Record<string, Catalog> = { en };
let active: Catalog = en;

export function setLang(tag: string | undefined): void {
  const lang = (tag ?? 'en').toLowerCase();
  active = CATALOGS[lang] ?? CATALOGS[lang.split('-')[0]!] ?? en;
  document.documentElement.lang = active === en ? 'en' : lang;
}

/** The string for `key`, with `{name}` placeholders filled in. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const text = active[key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}
