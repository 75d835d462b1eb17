import { t } from '../i18n.js';
import { type Flat, fieldId, OPS, readValue, showValue } from '../rule-model.js';
import type { Leaf, RuleBody, Source } from '../types.js';
import { Button, Checkbox, Select, TextField } from '../ui/field.js';

/** The rule as a form. Each input carries its API path, so a 422's `errors[].path` lands on it. */
export function RuleForm(p: {
  body: RuleBody;
  flat: Flat;
  sources: Source[];
  errors: Record<string, string>;
  readOnly: boolean;
  onChange: (body: RuleBody) => void;
}) {
  const { body, errors } = p;
  const set = (patch: Partial<RuleBody>) => p.onChange({ ...body, ...patch });
  const participant = body.target.participant;
  const byId = 'id' in participant;
  const leaves = p.flat?.leaves ?? [];
  const mode = p.flat?.mode ?? 'all';
  const setLeaves = (next: Leaf[], m = mode) => set({ when: m === 'all' ? { all: next } : { any: next } });
  const setLeaf = (i: number, leaf: Leaf) => setLeaves(leaves.map((l, j) => (j === i ? leaf : l)));
  const attrs = Object.entries(body.set);
  const setAttrs = (entries: Array<[string, string]>) => set({ set: Object.fromEntries(entries) });

  return (
    <fieldset disabled={p.readOnly} class="form">
      <legend>{t('editor.form')}</legend>
      <TextField
        id={fieldId('name')}
        label={t('rules.name')}
        value={body.name}
        onInput={(name) => set({ name })}
        error={errors.name}
      />
      <div class="row wrap">
        <Checkbox
          id={fieldId('enabled')}
          label={t('rules.enabled')}
          checked={body.enabled}
          onChange={(enabled) => set({ enabled })}
        />
        <TextField
          id={fieldId('priority')}
          type="number"
          label={t('rules.priority')}
          value={String(body.priority)}
          onInput={(v) => set({ priority: Number(v) })}
          error={errors.priority}
        />
        <Select
          id={fieldId('sourceId')}
          label={t('rules.source')}
          value={body.sourceId ?? ''}
          onInput={(v) => set({ sourceId: v || null })}
          options={[
            { value: '', label: t('rules.anySource') },
            ...p.sources.map((s) => ({ value: s.id, label: s.name })),
          ]}
          error={errors.sourceId}
        />
      </div>

      <h3>{t('editor.when')}</h3>
      {!p.flat ? (
        <p>{t('editor.nested')}</p>
      ) : (
        <>
          <Select
            id="when-mode"
            label={t('editor.mode')}
            value={mode}
            onInput={(m) => setLeaves(leaves, m as 'all' | 'any')}
            options={[
              { value: 'all', label: t('editor.all') },
              { value: 'any', label: t('editor.any') },
            ]}
          />
          {leaves.map((leaf, i) => {
            const at = `when.${mode}[${i}]`;
            return (
              <div class="row wrap condition" key={i}>
                <TextField
                  id={fieldId(`${at}.path`)}
                  label={t('editor.path', { n: i + 1 })}
                  value={leaf.path}
                  onInput={(path) => setLeaf(i, { ...leaf, path })}
                  error={errors[`${at}.path`]}
                />
                <Select
                  id={fieldId(`${at}.op`)}
                  label={t('editor.op', { n: i + 1 })}
                  value={leaf.op}
                  onInput={(op) => setLeaf(i, { ...leaf, op })}
                  options={(OPS.includes(leaf.op) ? OPS : [leaf.op, ...OPS]).map((o) => ({
                    value: o,
                    label: o,
                  }))}
                  error={errors[`${at}.op`]}
                />
                <TextField
                  id={fieldId(`${at}.value`)}
                  label={t('editor.value', { n: i + 1 })}
                  value={showValue(leaf.value)}
                  onInput={(v) => setLeaf(i, { ...leaf, value: readValue(leaf.op, v) })}
                  error={errors[`${at}.value`]}
                />
                {!p.readOnly && (
                  <Button
                    label={t('editor.removeCondition', { n: i + 1 })}
                    onClick={() => setLeaves(leaves.filter((_, j) => j !== i))}
                  >
                    {t('common.remove')}
                  </Button>
                )}
              </div>
            );
          })}
          {errors[`when.${mode}`] && <p class="field-error">{errors[`when.${mode}`]}</p>}
          {!p.readOnly && (
            <Button onClick={() => setLeaves([...leaves, { path: '$.', op: 'eq', value: '' }])}>
              {t('editor.addCondition')}
            </Button>
          )}
        </>
      )}

      <h3>{t('editor.target')}</h3>
      <div class="row wrap">
        <TextField
          id={fieldId('target.conversationId')}
          label={t('editor.conversationId')}
          value={body.target.conversationId}
          onInput={(conversationId) => set({ target: { ...body.target, conversationId } })}
          error={errors['target.conversationId']}
        />
        <Select
          id="participant-by"
          label={t('editor.participantBy')}
          value={byId ? 'id' : 'purpose'}
          onInput={(v) =>
            set({
              target: {
                ...body.target,
                participant: v === 'id' ? { id: '$.participantId' } : { purpose: 'customer' },
              },
            })
          }
          options={[
            { value: 'purpose', label: t('editor.byPurpose') },
            { value: 'id', label: t('editor.byId') },
          ]}
        />
        <TextField
          id={fieldId(byId ? 'target.participant.id' : 'target.participant.purpose')}
          label={byId ? t('editor.participantPath') : t('editor.purpose')}
          value={'id' in participant ? participant.id : [participant.purpose].flat().join(', ')}
          onInput={(v) =>
            set({ target: { ...body.target, participant: byId ? { id: v } : { purpose: purposes(v) } } })
          }
          error={
            errors[byId ? 'target.participant.id' : 'target.participant.purpose'] ??
            errors['target.participant']
          }
        />
      </div>

      <h3>{t('editor.set')}</h3>
      {attrs.map(([name, template], i) => (
        <div class="row wrap" key={i}>
          <TextField
            id={`attr-name-${i}`}
            label={t('editor.attrName', { n: i + 1 })}
            value={name}
            onInput={(v) => setAttrs(attrs.map((a, j) => (j === i ? [v, a[1]] : a)))}
            error={errors[`set.${name}`]}
          />
          <TextField
            id={`attr-template-${i}`}
            label={t('editor.attrTemplate', { n: i + 1 })}
            value={template}
            onInput={(v) => setAttrs(attrs.map((a, j) => (j === i ? [a[0], v] : a)))}
          />
          {!p.readOnly && (
            <Button
              label={t('editor.removeAttr', { n: i + 1 })}
              onClick={() => setAttrs(attrs.filter((_, j) => j !== i))}
            >
              {t('common.remove')}
            </Button>
          )}
        </div>
      ))}
      {errors.set && <p class="field-error">{errors.set}</p>}
      {!p.readOnly && (
        <Button onClick={() => setAttrs([...attrs, [`attribute_${attrs.length + 1}`, '{{ $. }}']])}>
          {t('editor.addAttr')}
        </Button>
      )}
    </fieldset>
  );
}

/** `customer, external` → an ordered list (the first with an active participant wins); one → itself. */
function purposes(text: string): string | string[] {
  const list = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return list.length > 1 ? list : (list[0] ?? text);
}
