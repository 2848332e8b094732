import fc from 'fast-check';
import { bearerToken } from './bearer';
import { headerValue, wellFormed } from './credential-headers';

describe('bearerToken (RFC 6750 §2.1)', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER  a.b-c_d~e+f/g==', 'a.b-c_d~e+f/g=='],
    ['Bearer abc ', 'abc'],
    [undefined, undefined],
    ['', undefined],
    ['Bearer', undefined],
    ['Bearer ', undefined],
    ['Basic abc', undefined],
    ['Bearerabc', undefined],
    ['Bearer a b', undefined],
    ['Bearer a,Bearer b', undefined],
    ['Bearer =abc', undefined],
    ['Bearer ab=c', undefined],
    ['Bearer a\tb', undefined],
    ['Bearer é', undefined],
    [`Bearer ${'a'.repeat(8192)}`, 'a'.repeat(8192)],
    [`Bearer ${'a'.repeat(8193)}`, undefined],
  ])('%j → %j', (header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });

  it('refuses a header given twice', () => {
    expect(bearerToken(['Bearer a', 'Bearer b'])).toBeUndefined();
  });

  const b64token = fc
    .tuple(fc.string({ unit: fc.constantFrom(...'ABCxyz019-._~+/'), minLength: 1, maxLength: 60 }), fc.string({ unit: fc.constant('='), maxLength: 3 }))
    .map(([body, padding]) => body + padding);

  it('reads back every b64token, whatever the scheme case and spacing', () => {
    const scheme = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR');
    fc.assert(
      fc.property(scheme, fc.integer({ min: 1, max: 4 }), b64token, fc.integer({ min: 0, max: 3 }), (s, before, token, after) => {
        expect(bearerToken(`${s}${' '.repeat(before)}${token}${' '.repeat(after)}`)).toBe(token);
      }),
    );
  });

  it('never throws, and never returns a token with a character outside b64token', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (header) => {
        const token = bearerToken(header);
        if (token !== undefined) expect(token).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
      }),
    );
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (tail) => void bearerToken(`Bearer ${tail}`)));
  });
});

describe('headerValue', () => {
  it.each([
    ['psu-1', 'psu-1'],
    ['accounts payments', 'accounts payments'],
    ['50%', '50%25'],
    ['é', '%C3%A9'],
    ['x\r\ny', 'x%0D%0Ay'],
    ['a\u0000b', 'a%00b'],
    ['\ud800', '%EF%BF%BD'],
    [' alice ', '%20alice%20'],
    ['  a b  ', '%20%20a b%20%20'],
    ['read%20write', 'read%2520write'],
    ['', ''],
  ])('%j → %j', (value, expected) => {
    expect(headerValue(value)).toBe(expected);
  });

  it('is always a valid header value, and decodeURIComponent gives the (well-formed) value back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (value) => {
        const encoded = headerValue(value);
        expect(encoded).toMatch(/^[\x20-\x7e]*$/);
        expect(encoded).toBe(encoded.trim());
        expect(decodeURIComponent(encoded)).toBe(wellFormed(value));
      }),
    );
  });
});
