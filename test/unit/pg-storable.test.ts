import { describe, expect, it } from 'vitest';
import { storable } from '../../src/db/pg/insert-rows.js';
import { storableText } from '../../src/lib/text.js';

const through = (v: string) => (JSON.parse(storable(JSON.stringify({ v }))) as { v: string }).v;

describe('storable (what PostgreSQL text can hold)', () => {
  it('turns a NUL and a lone surrogate into U+FFFD', () => {
    expect(through('a\u0000b')).toBe('a\ufffdb');
    expect(through('x\ud800y\udfff')).toBe('x\ufffdy\ufffd');
    expect(through('\\\u0000')).toBe('\\\ufffd');
  });

  it('keeps text that only looks like those escapes, and surrogate pairs', () => {
    for (const v of ['\\u0000', '\\\\u0000', 'ok 😀', 'plain', '\\ud800']) expect(through(v)).toBe(v);
  });
});

describe('storableText (what every backend reads back as written)', () => {
  it('turns a NUL and a lone surrogate into U+FFFD, and keeps surrogate pairs', () => {
    expect(storableText('a\u0000b\ud800c\udfff')).toBe('a\ufffdb\ufffdc\ufffd');
    expect(storableText('ok 😀 \\u0000')).toBe('ok 😀 \\u0000');
    expect(storableText('\udfff\ud800')).toBe('\ufffd\ufffd'); // reversed: not a pair
  });
});
