import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { Button, TextField } from './field.js';

/**
 * A confirmation in spark's gux-modal (a native <dialog> opened with showModal: focus stays in
 * it, Escape cancels). With `typeToConfirm`, the action stays disabled until that text is typed.
 */
export function Confirm(p: {
  title: string;
  children: ComponentChildren;
  action: string;
  danger?: boolean;
  typeToConfirm?: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const [typed, setTyped] = useState('');
  const ready = !p.typeToConfirm || typed === p.typeToConfirm;
  return (
    <gux-modal open size="small" onguxdismiss={p.onCancel}>
      <span slot="title">{p.title}</span>
      <div slot="content">
        {p.children}
        {p.typeToConfirm && (
          <TextField
            id="confirm-text"
            label={t('confirm.type', { text: p.typeToConfirm })}
            value={typed}
            onInput={setTyped}
          />
        )}
      </div>
      <div slot="end-align-buttons" class="row">
        <Button onClick={p.onCancel}>{t('common.cancel')}</Button>
        <Button accent={p.danger ? 'danger' : 'primary'} disabled={!ready} onClick={p.onConfirm}>
          {p.action}
        </Button>
      </div>
    </gux-modal>
  );
}
