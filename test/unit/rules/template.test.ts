import { describe, expect, it } from 'vitest';
import { parseTemplate, render, TemplateError } from '../../../src/rules/template.js';

const event = {
  customer: { tier: 'gold', ltv: 18250.5, vip: true, note: null, tags: ['a', 'b'], addr: { city: 'Paris' } },
};
const r = (t: string, max = 100) => render(parseTemplate(t), event, max);

describe('templates', () => {
  it.each([
    ['{{ $.customer.tier }}', 'gold'],
    ['{{$.customer.tier}}', 'gold'],
    ['Tier: {{ $.customer.tier }}!', 'Tier: gold!'],
    ['{{ $.customer.ltv }}', '18250.5'],
    ['{{ $.customer.vip }}', 'true'],
    ['{{ $.customer.note }}', ''],
    ['{{ $.customer.tags }}', '["a","b"]'],
    ['{{ $.customer.addr }}', '{"city":"Paris"}'],
    ['plain text', 'plain text'],
    ['', ''],
    ['{{ $.customer.tier }}/{{ $.customer.vip }}', 'gold/true'],
  ])('%s → %s', (t, value) => {
    expect(r(t)).toEqual({ value });
  });

  it('drops the attribute when a placeholder’s path is missing', () => {
    expect(r('x {{ $.customer.missing }}')).toEqual({
      dropped: 'missing_path',
      detail: '$.customer.missing',
    });
  });

  it('drops a value past the length limit', () => {
    expect(r('{{ $.customer.tier }}{{ $.customer.tier }}', 6)).toMatchObject({ dropped: 'too_long' });
  });

  it.each([
    '{{ $.a',
    '$.a }}',
    '{{ {{ $.a }} }}',
    '{{ }}',
    '{{ customer }}',
    '{{ $..a }}',
    'a }} b {{ $.c }}',
  ])('refuses %s', (t) => {
    expect(() => parseTemplate(t)).toThrow(TemplateError);
  });
});
