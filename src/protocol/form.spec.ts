import fc from 'fast-check';
import { parseForm, repeatedParameters, single } from './form';

/** Any code point (no lone surrogates: URLSearchParams cannot carry them), biased to form syntax. */
const unit = fc.oneof(fc.constantFrom('&', '=', '+', '%', ' ', '%20', '%zz', '?', '#', ';'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
const text = fc.string({ unit, maxLength: 20 });
const record = fc
  .uniqueArray(fc.tuple(text, text), { selector: ([name]) => name, maxLength: 8 })
  .map((entries) => Object.fromEntries(entries) as Record<string, string>);

describe('parseForm', () => {
  it('decodes plus as space and percent escapes, keeping bad escapes literal', () => {
    const form = parseForm('a=1+2&b=%41%20c&c=%zz&d=%&e=%E0%A4%A');
    expect(single(form, 'a')).toBe('1 2');
    expect(single(form, 'b')).toBe('A c');
    expect(single(form, 'c')).toBe('%zz');
    expect(single(form, 'd')).toBe('%');
    expect(single(form, 'e')).toBe('\uFFFD%A');
  });

  it('round-trips any record of distinct names encoded by URLSearchParams, with no repeats', () => {
    fc.assert(
      fc.property(record, (input) => {
        const form = parseForm(new URLSearchParams(input).toString());
        expect(repeatedParameters(form)).toEqual([]);
        // RFC 6749 §3.2: a parameter without a value is as if omitted.
        const sent = Object.entries(input).filter(([, value]) => value !== '');
        expect(Object.keys(form).sort()).toEqual(sent.map(([name]) => name).sort());
        for (const [name, value] of Object.entries(input)) expect(single(form, name)).toBe(value === '' ? undefined : value);
      }),
    );
  });

  it('keeps every value of a repeated name in order and reports the name as repeated; empty values do not count', () => {
    fc.assert(
      fc.property(record, text, fc.array(text, { minLength: 2, maxLength: 4 }), (input, name, values) => {
        const params = new URLSearchParams(input);
        params.delete(name);
        for (const value of values) params.append(name, value);
        const form = parseForm(params.toString());
        const sent = values.filter((value) => value !== '');
        expect(repeatedParameters(form)).toEqual(sent.length > 1 ? [name] : []);
        expect(form[name]).toEqual(sent.length > 1 ? sent : sent[0]);
        if (sent.length > 1) expect(single(form, name)).toBeUndefined();
      }),
    );
  });

  it('never throws on arbitrary input, including malformed percent escapes', () => {
    const junk = fc.string({ unit: fc.oneof(unit, fc.constantFrom('%E0%A4%A', '%', '%zz', '%%', '%C3')), maxLength: 40 });
    fc.assert(
      fc.property(fc.oneof(junk, fc.string({ unit: 'grapheme' }), fc.string()), (body) => {
        expect(() => parseForm(body)).not.toThrow();
      }),
    );
  });

  it('treats __proto__ and constructor as ordinary names without polluting Object.prototype', () => {
    const form = parseForm('__proto__=x&constructor=y&__proto__[polluted]=1&toString=z');
    expect(single(form, '__proto__')).toBe('x');
    expect(single(form, 'constructor')).toBe('y');
    expect(single(form, '__proto__[polluted]')).toBe('1');
    expect(single(form, 'toString')).toBe('z');
    expect(repeatedParameters(form)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('returns an object without inherited members', () => {
    const form = parseForm('a=1');
    expect(Object.keys(form)).toEqual(['a']);
    expect('constructor' in form).toBe(false);
    expect('toString' in form).toBe(false);
  });
});

describe('single', () => {
  it('returns undefined for an absent name and for one sent without a value (RFC 6749 §3.2)', () => {
    const form = parseForm('a=&b&c=1&d=&d=2');
    expect(single(form, 'a')).toBeUndefined();
    expect(single(form, 'b')).toBeUndefined();
    expect(single(form, 'c')).toBe('1');
    expect(single(form, 'd')).toBe('2');
    expect(single(form, 'e')).toBeUndefined();
    expect(repeatedParameters(form)).toEqual([]);
  });
});
