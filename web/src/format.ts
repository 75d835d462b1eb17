import { t } from './i18n.js';

/** Durations in plain words: "45 seconds", "2 minutes", "3 hours", "4 days". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return t('time.seconds', { n: s });
  const m = Math.round(s / 60);
  if (m < 90) return t('time.minutes', { n: m });
  const h = Math.round(m / 60);
  if (h < 36) return t('time.hours', { n: h });
  return t('time.days', { n: Math.round(h / 24) });
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return t('time.never');
  return t('time.ago', { d: duration(now - Date.parse(iso)) });
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString();
}

export const pretty = (v: unknown): string => JSON.stringify(v, null, 2);
