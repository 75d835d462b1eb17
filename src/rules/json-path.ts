/**
 * The rule language's paths: a safe JSONPath subset, `$` then any of `.name`, `['any key']` /
 * `["any key"]` and `[index]`. Parsed once when a rule is saved into a list of segments that
 * `read` walks; nothing is ever evaluated as code. Filters (`[?(…)]`), wildcards, recursive
 * descent (`..`), slices and unions are refused, and so are the keys `__proto__`, `constructor`
 * and `prototype`, so a path can never reach an object's prototype.
 */
export type Segment = { readonly key: string } | { readonly index: number };
export type Path = readonly Segment[];

export const MAX_PATH_LENGTH = 512;
export const MAX_SEGMENTS = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const NAME = /[A-Za-z_$][A-Za-z0-9_$-]*/y;
const INDEX = /(0|[1-9][0-9]{0,8})\]/y;

export class PathError extends Error {
  override name = 'PathError';
}

/** @throws PathError saying what is wrong and where. */
export function parsePath(text: string): Path {
  if (typeof text !== 'string') throw new PathError('a path is a string such as $.customer.tier');
  if (text.length > MAX_PATH_LENGTH)
    throw new PathError(`a path may be at most ${MAX_PATH_LENGTH} characters`);
  if (text[0] !== '$') throw new PathError('a path starts with $');
  const segments: Segment[] = [];
  let i = 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '.') {
      if (text[i + 1] === '.') throw new PathError(`recursive descent (..) is not supported (at ${i})`);
      NAME.lastIndex = i + 1;
      const m = NAME.exec(text);
      if (!m) throw new PathError(`expected a name after "." at ${i + 1}; use ['…'] for other keys`);
      segments.push(key(m[0]));
      i = NAME.lastIndex;
    } else if (c === '[') {
      const q = text[i + 1];
      if (q === "'" || q === '"') {
        const [value, next] = quoted(text, i + 2, q);
        if (text[next] !== ']') throw new PathError(`expected ] at ${next}`);
        segments.push(key(value));
        i = next + 1;
      } else {
        INDEX.lastIndex = i + 1;
        const m = INDEX.exec(text);
        if (!m?.[1])
          throw new PathError(
            `only ['key'] or [index] may follow [ (at ${i}); filters and wildcards are not supported`,
          );
        segments.push({ index: Number(m[1]) });
        i = INDEX.lastIndex;
      }
    } else {
      throw new PathError(`unexpected ${JSON.stringify(c)} at ${i}`);
    }
    if (segments.length > MAX_SEGMENTS) throw new PathError(`a path may have at most ${MAX_SEGMENTS} steps`);
  }
  return segments;
}

function key(k: string): Segment {
  if (FORBIDDEN_KEYS.has(k)) throw new PathError(`the key ${JSON.stringify(k)} is not allowed in a path`);
  return { key: k };
}

/** A quoted key starting at `start`; `\\` escapes the quote and itself. Returns [key, index after quote]. */
function quoted(text: string, start: number, q: string): [string, number] {
  let out = '';
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      const n = text[i + 1];
      if (n !== q && n !== '\\') throw new PathError(`only \\${q} and \\\\ are escapes (at ${i})`);
      out += n;
      i++;
    } else if (c === q) {
      return [out, i + 1];
    } else {
      out += c;
    }
  }
  throw new PathError(`unterminated quoted key starting at ${start - 1}`);
}

/** Marks "nothing at this path", distinct from a JSON `null` found there. */
export const MISSING: unique symbol = Symbol('missing');

/** The value at `path` in a parsed JSON document, or `MISSING`. Only own properties are read. */
export function read(doc: unknown, path: Path): unknown {
  let cur: unknown = doc;
  for (const s of path) {
    if ('key' in s) {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, s.key))
        return MISSING;
      cur = (cur as Record<string, unknown>)[s.key];
    } else {
      if (!Array.isArray(cur) || s.index >= cur.length) return MISSING;
      cur = cur[s.index];
    }
  }
  return cur;
}

/** The canonical text of a path (for traces and index keys). */
export function formatJsonPath(path: Path): string {
  const step = (s: Segment) => {
    if ('index' in s) return `[${s.index}]`;
    if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(s.key)) return `.${s.key}`;
    return `['${s.key.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
  };
  return `$${path.map(step).join('')}`;
}
