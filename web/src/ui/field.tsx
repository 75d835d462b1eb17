import type { ComponentChildren } from 'preact';

/**
 * Form fields: spark's wrappers around native inputs, so every input keeps a real <label for>,
 * and an error (from a 422's `errors[].path`) sits on the field it names.
 */
interface FieldProps {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  error?: string | undefined;
  help?: string | undefined;
  type?: 'text' | 'number' | 'password' | 'email';
  min?: number;
  max?: number;
  required?: boolean;
  readOnly?: boolean;
  placeholder?: string;
}

export function TextField(p: FieldProps) {
  const Tag = p.type === 'number' ? 'gux-form-field-number' : 'gux-form-field-text-like';
  return (
    <Tag label-position="above" data-field={p.id}>
      <input
        slot="input"
        id={p.id}
        type={(p.type ?? 'text') as 'text'}
        value={p.value}
        min={p.min}
        max={p.max}
        required={p.required}
        readOnly={p.readOnly}
        placeholder={p.placeholder}
        aria-invalid={p.error ? 'true' : undefined}
        onInput={(e) => p.onInput((e.currentTarget as HTMLInputElement).value)}
      />
      <label slot="label" for={p.id}>
        {p.label}
      </label>
      {p.help && <span slot="help">{p.help}</span>}
      {p.error && (
        <span slot="error" class="field-error">
          {p.error}
        </span>
      )}
    </Tag>
  );
}

export function TextArea(p: Omit<FieldProps, 'type'> & { rows?: number }) {
  return (
    <gux-form-field-textarea label-position="above" data-field={p.id}>
      <textarea
        slot="input"
        id={p.id}
        rows={p.rows ?? 8}
        value={p.value}
        spellcheck={false}
        class="mono"
        readOnly={p.readOnly}
        aria-invalid={p.error ? 'true' : undefined}
        onInput={(e) => p.onInput((e.currentTarget as HTMLTextAreaElement).value)}
      />
      <label slot="label" for={p.id}>
        {p.label}
      </label>
      {p.help && <span slot="help">{p.help}</span>}
      {p.error && (
        <span slot="error" class="field-error">
          {p.error}
        </span>
      )}
    </gux-form-field-textarea>
  );
}

export function Select(p: {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  options: Array<{ value: string; label: string }>;
  error?: string | undefined;
}) {
  return (
    <gux-form-field-select label-position="above" data-field={p.id}>
      <select
        slot="input"
        id={p.id}
        value={p.value}
        onChange={(e) => p.onInput((e.currentTarget as HTMLSelectElement).value)}
      >
        {p.options.map((o) => (
          <option key={o.value} value={o.value} selected={o.value === p.value}>
            {o.label}
          </option>
        ))}
      </select>
      <label slot="label" for={p.id}>
        {p.label}
      </label>
      {p.error && (
        <span slot="error" class="field-error">
          {p.error}
        </span>
      )}
    </gux-form-field-select>
  );
}

export function Checkbox(p: { id: string; label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <gux-form-field-checkbox>
      <input
        slot="input"
        type="checkbox"
        id={p.id}
        checked={p.checked}
        onChange={(e) => p.onChange((e.currentTarget as HTMLInputElement).checked)}
      />
      <label slot="label" for={p.id}>
        {p.label}
      </label>
    </gux-form-field-checkbox>
  );
}

/** spark's button (its own <button> lives in its shadow root, so it is named by its text). */
export function Button(p: {
  onClick?: () => void;
  accent?: 'primary' | 'secondary' | 'tertiary' | 'danger' | 'ghost';
  disabled?: boolean;
  children: ComponentChildren;
  label?: string;
}) {
  return (
    <gux-button
      accent={p.accent ?? 'secondary'}
      disabled={p.disabled}
      gux-title={p.label}
      onClick={() => !p.disabled && p.onClick?.()}
    >
      {p.children}
    </gux-button>
  );
}
