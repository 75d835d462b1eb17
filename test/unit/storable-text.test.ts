import { describe, expect, it } from 'vitest';
import { storableText } from '../../src/lib/text.js';

describe('storableText (what every backend reads back as written)', () => {
  it('turns a NUL and a lone surrogate into U+FFFD', () => {
    expect(storableText('a\u0000b\ud800c\udfff')).toBe('a\ufffdb\ufffdc\ufffd');
    expect(storableText('\udfff\ud800')).toBe('\ufffd\ufffd'); // reversed: not a pair
    // Each alone: either one takes the slow path.
    expect(storableText('a\u0000b')).toBe('a\ufffdb');
    expect(storableText('a\ud800b 😀')).toBe('a\ufffdb 😀');
  });

  it('keeps text that only looks like those escapes, and surrogate pairs', () => {
    for (const v of ['\\u0000', '\\\\u0000', 'ok 😀', 'plain', '\\ud800']) expect(storableText(v)).toBe(v);
  });
});
