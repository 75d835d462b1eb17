import { describe, expect, it } from 'vitest';
import { diffLines } from '../../web/src/diff.js';
import { grants, missing } from '../../web/src/permissions.js';
import { flatten, readValue } from '../../web/src/rule-model.js';

/** The admin page's pure pieces (the browser tests cover the rest through the page). */
describe('the admin page’s permission check', () => {
  it('honours a * per segment, as the server does', () => {
    expect(grants('integration:attributeRelay:admin', 'integration:attributeRelay:admin')).toBe(true);
    expect(grants('integration:*:*', 'integration:attributeRelay:admin')).toBe(true);
    expect(grants('*:*:*', 'oauth:client:add')).toBe(true);
    expect(grants('integration:attributeRelay:view', 'integration:attributeRelay:admin')).toBe(false);
    expect(grants('oauth:client', 'oauth:client:add')).toBe(false);
  });

  it('lists what is missing', () => {
    expect(
      missing(
        ['authorization:role:*', 'oauth:*:*'],
        ['authorization:role:add', 'authorization:grant:add', 'oauth:client:add'],
      ),
    ).toEqual(['authorization:grant:add']);
  });
});

describe('the rule editor’s model', () => {
  it('reads the value box as JSON where it parses, else as text', () => {
    expect(readValue('eq', '5')).toBe(5);
    expect(readValue('eq', 'gold')).toBe('gold');
    expect(readValue('in', 'gold, platinum')).toEqual(['gold', 'platinum']);
    expect(readValue('in', '["a",1]')).toEqual(['a', 1]);
    expect(readValue('exists', '')).toBeUndefined();
  });

  it('puts flat condition lists in the form and leaves nested ones to the JSON view', () => {
    expect(flatten({ path: '$.a', op: 'eq', value: 1 })).toEqual({
      mode: 'all',
      leaves: [{ path: '$.a', op: 'eq', value: 1 }],
    });
    expect(flatten({ any: [{ path: '$.a', op: 'exists' }] })?.mode).toBe('any');
    expect(flatten({ all: [{ not: { path: '$.a', op: 'exists' } }] })).toBeNull();
  });
});

describe('the version diff', () => {
  it('marks added and removed lines around the common ones', () => {
    expect(diffLines('a\nb\nc', 'a\nx\nc')).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'added', text: 'x' },
      { kind: 'same', text: 'c' },
    ]);
  });
});
