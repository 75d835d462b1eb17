import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { pretty } from '../format.js';
import { t } from '../i18n.js';
import { go } from '../route.js';
import { bodyOf, emptyRule, flatten, formView } from '../rule-model.js';
import type { RuleBody, Source, StoredRule } from '../types.js';
import { Alert, ErrorAlert, fieldErrors } from '../ui/alert.js';
import { Button, TextArea } from '../ui/field.js';
import { useLoad } from '../use-load.js';
import { BacktestPanel } from './backtest.js';
import { DryRunPanel } from './dry-run.js';
import { RuleForm } from './rule-form.js';
import type { PageProps } from './shell.js';
import { Versions } from './versions.js';

/**
 * One rule: a form and its JSON side by side, kept in sync through one model (the body). Typing
 * JSON that does not parse leaves the form as it was and says so; saving shows the server's
 * 422 errors on the fields they name.
 */
export function RuleEditor(p: PageProps & { id: string | null }) {
  const sources = useLoad(() => api.get<{ items: Source[] }>('/v1/sources'));
  const [stored, setStored] = useState<StoredRule | null>(null);
  const [body, setBody] = useState<RuleBody>(emptyRule);
  const [json, setJson] = useState(() => pretty(emptyRule()));
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    if (!p.id) return;
    api
      .get<StoredRule>(`/v1/rules/${p.id}`)
      .then((r) => {
        setStored(r);
        // Not fromForm: loading after a create must not hide its "saved" note.
        setBody(bodyOf(r));
        setJson(pretty(bodyOf(r)));
      })
      .catch(setError);
  }, [p.id]);

  const fromForm = (b: RuleBody) => {
    setBody(b);
    setJson(pretty(b));
    setJsonError(null);
    setSaved(false);
  };
  const fromJson = (text: string) => {
    setJson(text);
    setSaved(false);
    try {
      const parsed = JSON.parse(text) as RuleBody;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error(t('editor.jsonObject'));
      setBody(parsed);
      setJsonError(null);
    } catch (e) {
      setJsonError((e as Error).message);
    }
  };

  const save = async () => {
    setError(null);
    try {
      const r = p.id
        ? await api.put<StoredRule>(`/v1/rules/${p.id}`, body)
        : await api.post<StoredRule>('/v1/rules', body);
      setStored(r);
      setSaved(true);
      if (!p.id) go(`rules/${r.id}`);
    } catch (e) {
      setError(e);
    }
  };

  const errors = fieldErrors(error);
  const view = formView(body);
  const flat = flatten(view.when);
  const readOnly = !p.canWrite;
  return (
    <section aria-labelledby="editor-h">
      <p>
        <a href="#/rules">{t('editor.back')}</a>
      </p>
      <h1 id="editor-h">
        {p.id ? t('editor.titleEdit', { name: stored?.name ?? '' }) : t('editor.titleNew')}
      </h1>
      {stored && <p class="muted">{t('editor.versionInfo', { version: stored.version, id: stored.id })}</p>}
      <ErrorAlert error={error} />
      {saved && <Alert accent="success">{t('editor.saved', { version: stored?.version ?? '' })}</Alert>}
      <div class="split">
        <RuleForm
          body={view}
          flat={flat}
          sources={sources.data?.items ?? []}
          errors={errors}
          readOnly={readOnly}
          onChange={fromForm}
        />
        <div>
          <TextArea
            id="rule-json"
            label={t('editor.json')}
            rows={28}
            value={json}
            onInput={fromJson}
            readOnly={readOnly}
            error={jsonError ?? undefined}
            help={t('editor.jsonHelp')}
          />
        </div>
      </div>
      {p.canWrite && (
        <p>
          <Button accent="primary" disabled={jsonError !== null} onClick={save}>
            {p.id ? t('editor.save') : t('editor.create')}
          </Button>
        </p>
      )}
      <DryRunPanel rule={body} sources={sources.data?.items ?? []} />
      <BacktestPanel rule={body} />
      {p.id && stored && <Versions id={p.id} latest={stored.version} />}
    </section>
  );
}
