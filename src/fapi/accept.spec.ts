import fc from 'fast-check';
import { acceptsJson } from './accept';

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
