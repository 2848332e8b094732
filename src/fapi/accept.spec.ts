import fc from 'fast-check';
import { acceptsJson, mediaQuality } from './accept';

describe('acceptsJson', () => {
  it.each([
    [undefined, true],
    ['', true],
    ['application/json', true],
    ['APPLICATION/JSON', true],
    ['application/json; charset=utf-8', true],
    ['*/*', true],
    ['application/*', true],
    ['text/html, application/json;q=0.1', true],
    ['text/html, */*;q=0.8', true],
    ['application/json;q=0', false],
    ['application/json;q=0.000', false],
    ['application/json;q=0, */*', false],
    ['application/*;q=0, application/json', true],
    ['*/*;q=0', false],
    ['text/html', false],
    ['application/xml', false],
    ['text/*', false],
    ['application/json;q=2', false],
    ['application/json;q=abc', false],
  ])('%j → %s', (header, expected) => {
    expect(acceptsJson(header)).toBe(expected);
  });

  it('never throws, and a header listing application/json with no q always accepts', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (header) => void expect(typeof acceptsJson(header)).toBe('boolean')));
    const other = fc.constantFrom('text/html', 'application/xml;q=0.5', 'image/*', 'text/plain;q=0');
    fc.assert(
      fc.property(fc.array(other, { maxLength: 4 }), fc.array(other, { maxLength: 4 }), (before, after) => {
        expect(acceptsJson([...before, 'application/json', ...after].join(', '))).toBe(true);
      }),
    );
  });
});

describe('mediaQuality', () => {
  const JWT = 'application/token-introspection+jwt';
  it.each([
    [undefined, true, 1],
    [undefined, false, 0],
    ['*/*', false, 0],
    ['application/*', false, 0],
    [JWT, false, 1],
    [`${JWT};q=0.5, application/json`, false, 0.5],
    [`application/json, ${JWT.toUpperCase()};q=0.25`, false, 0.25],
    [`${JWT};q=0`, false, 0],
    [`${JWT};q=0.5, ${JWT};q=0.9`, false, 0.9],
    ['application/*;q=0.3, */*;q=0.7', true, 0.3],
    ['*/*;q=0.7', true, 0.7],
  ])('%j, wildcards %s → %s', (header, wildcards, expected) => {
    expect(mediaQuality(header, JWT, { wildcards })).toBe(expected);
  });

  it('is always a q-value between 0 and 1, and without wildcards never more than with them', () => {
    const range = fc.constantFrom('application/token-introspection+jwt', 'application/json', '*/*', 'application/*', 'text/html', 'x');
    const q = fc.option(fc.constantFrom('0', '0.5', '1', '1.000', '2', 'abc', ''), { nil: undefined });
    const header = fc.array(fc.tuple(range, q), { maxLength: 5 }).map((ranges) => ranges.map(([r, v]) => (v === undefined ? r : `${r};q=${v}`)).join(', '));
    fc.assert(
      fc.property(header, (value) => {
        const strict = mediaQuality(value, 'application/token-introspection+jwt', { wildcards: false });
        const loose = mediaQuality(value, 'application/token-introspection+jwt');
        expect(strict).toBeGreaterThanOrEqual(0);
        expect(loose).toBeLessThanOrEqual(1);
        if (strict > 0) expect(loose).toBe(strict); // an exact range is always the most specific
      }),
    );
  });
});
