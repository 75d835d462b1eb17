import type { ComponentChildren } from 'preact';
import { ApiError } from '../api.js';
import { t } from '../i18n.js';

export function Alert(p: { accent: 'info' | 'success' | 'warning' | 'error'; children: ComponentChildren }) {
  return (
    <gux-inline-alert accent={p.accent} role={p.accent === 'error' ? 'alert' : 'status'}>
      <div>{p.children}</div>
    </gux-inline-alert>
  );
}

/** A problem+json answer in words: its detail, and every field error it names. */
export function ErrorAlert(p: { error: unknown }) {
  if (!p.error) return null;
  const problem = p.error instanceof ApiError ? p.error.problem : undefined;
  return (
    <Alert accent="error">
      <strong>{problem?.title ?? t('error.title')}</strong>: {problem?.detail ?? String(p.error)}
      {problem?.errors && problem.errors.length > 0 && (
        <ul>
          {problem.errors.map((e) => (
            <li key={e.path}>
              <code>{e.path}</code>: {e.message}
            </li>
          ))}
        </ul>
      )}
    </Alert>
  );
}

/** `errors[].path` → message, for the fields that show them. */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  return Object.fromEntries((error.problem.errors ?? []).map((e) => [e.path, e.message]));
}
