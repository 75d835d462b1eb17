import { MISSING, type Path, type PathError, parsePath, read } from './json-path.js';

/**
 * Attribute value templates: literal text with `{{ path }}` placeholders, parsed once when a rule
 * is saved. Rendering gives a string (Genesys attributes are strings):
 * - strings as they are; numbers and booleans with `String()`; `null` as an empty string;
 *   objects and arrays as compact JSON;
 * - a placeholder whose path is missing drops the whole attribute (`missing_path`);
 * - a result longer than the limit drops it too (`too_long`).
 */
export type Part = { readonly text: string } | { readonly path: Path; readonly source: string };
export type Template = readonly Part[];

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** @throws TemplateError for unbalanced braces or a bad path inside them. */
export function parseTemplate(text: string): Template {
  const parts: Part[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    const strayClose = text.indexOf('}}', i);
    if (strayClose !== -1 && (open === -1 || strayClose < open))
      throw new TemplateError(`"}}" without "{{" at ${strayClose}`);
    if (open === -1) {
      parts.push({ text: text.slice(i) });
      break;
    }
    if (open > i) parts.push({ text: text.slice(i, open) });
    const close = text.indexOf('}}', open + 2);
    if (close === -1) throw new TemplateError(`"{{" at ${open} is never closed`);
    const inner = text.slice(open + 2, close).trim();
    if (inner.includes('{{')) throw new TemplateError(`nested "{{" at ${open}`);
    try {
      parts.push({ path: parsePath(inner), source: inner });
    } catch (e) {
      throw new TemplateError(`placeholder at ${open}: ${(e as PathError).message}`);
    }
    i = close + 2;
  }
  return parts;
}

export type Rendered = { value: string } | { dropped: 'missing_path' | 'too_long'; detail: string };

export function render(template: Template, event: unknown, maxLength: number): Rendered {
  let out = '';
  for (const part of template) {
    if ('text' in part) {
      out += part.text;
      continue;
    }
    const v = read(event, part.path);
    if (v === MISSING) return { dropped: 'missing_path', detail: part.source };
    const text = stringify(v);
    if (text === undefined)
      return { dropped: 'too_long', detail: 'the value is nested too deeply to encode' };
    out += text;
    if (out.length > maxLength) return { dropped: 'too_long', detail: `longer than ${maxLength} characters` };
  }
  return { value: out };
}

function stringify(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v === null) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    // A body may nest deeper than the stack allows to encode it: never let that throw.
    return undefined;
  }
}
