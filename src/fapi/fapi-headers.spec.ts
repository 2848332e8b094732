import fc from 'fast-check';
import { checkFapiHeaders, isCustomerIpAddress, isCustomerUserAgent, isFapiAuthDate } from './fapi-headers';

const MIN = Date.UTC(1900, 0, 1);
const MAX = Date.UTC(2999, 11, 31, 23, 59, 59);

describe('x-fapi-auth-date', () => {
  it('accepts every real instant written as an IMF-fixdate, in GMT or UTC', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN / 1000, max: MAX / 1000 }), fc.boolean(), (seconds, utc) => {
        const gmt = new Date(seconds * 1000).toUTCString(); // "Sun, 22 Nov 2026 17:57:00 GMT"
        expect(isFapiAuthDate(utc ? gmt.replace(/GMT$/, 'UTC') : gmt)).toBe(true);
      }),
    );
  });

  it('does not cross-check the weekday', () => {
    expect(isFapiAuthDate('Mon, 22 Nov 2026 17:57:00 GMT')).toBe(true); // a Sunday
  });

  it.each([
    'Sun, 31 Feb 2026 10:00:00 GMT',
    'Sun, 29 Feb 2025 10:00:00 GMT',
    'Sun, 00 Jan 2026 10:00:00 GMT',
    'Sun, 22 Nov 2026 24:00:00 GMT',
    'Sun, 22 Nov 2026 23:60:00 GMT',
    'Sun, 22 Nov 2026 23:59:60 GMT',
    'Sun, 22 Nov 2026 17:57:00 CET',
    'Sun, 22 Nov 2026 17:57:00 +0000',
    'Sunday, 22 Nov 2026 17:57:00 GMT',
    'Sun, 2 Nov 2026 17:57:00 GMT',
    'sun, 22 nov 2026 17:57:00 GMT',
    '2026-11-22T17:57:00Z',
    'Sun, 22 Nov 2026 17:57:00 GMT, Sun, 22 Nov 2026 17:57:00 GMT',
    '',
  ])('refuses %j', (value) => {
    expect(isFapiAuthDate(value)).toBe(false);
  });

  it('accepts 29 February in a leap year and years before 100', () => {
    expect(isFapiAuthDate('Thu, 29 Feb 2024 00:00:00 GMT')).toBe(true);
    expect(isFapiAuthDate('Mon, 01 Jan 0099 00:00:00 GMT')).toBe(true);
  });

  it('never throws, whatever the input', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (value) => void expect(typeof isFapiAuthDate(value)).toBe('boolean')));
  });
});

describe('x-fapi-customer-ip-address', () => {
  it('accepts IPv4 and IPv6 addresses', () => {
    fc.assert(fc.property(fc.ipV4(), (ip) => void expect(isCustomerIpAddress(ip)).toBe(true)));
    fc.assert(fc.property(fc.ipV6(), (ip) => void expect(isCustomerIpAddress(ip)).toBe(true)));
  });

  it.each(['256.1.1.1', '1.2.3', '::g', 'example.com', '1.2.3.4, 5.6.7.8', ' 1.2.3.4', '', 'fe80::1%eth0'])('refuses %j', (value) => {
    expect(isCustomerIpAddress(value)).toBe(false);
  });
});

describe('x-customer-user-agent', () => {
  it('accepts visible ASCII and space up to 512 characters', () => {
    const ascii = fc.string({ maxLength: 512, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
    fc.assert(fc.property(ascii, (value) => void expect(isCustomerUserAgent(value)).toBe(true)));
  });

  it('refuses anything longer or outside visible ASCII', () => {
    expect(isCustomerUserAgent('a'.repeat(513))).toBe(false);
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }).filter((s) => /[^\x20-\x7e]/.test(s)),
        (value) => void expect(isCustomerUserAgent(value)).toBe(false),
      ),
    );
  });
});

describe('checkFapiHeaders', () => {
  it('names the first malformed header, in contract order', () => {
    expect(checkFapiHeaders({ 'x-fapi-auth-date': 'yesterday', 'x-fapi-customer-ip-address': 'x' })).toEqual({ invalid: 'x-fapi-auth-date' });
    expect(checkFapiHeaders({ 'x-fapi-customer-ip-address': 'x' })).toEqual({ invalid: 'x-fapi-customer-ip-address' });
    expect(checkFapiHeaders({ 'x-customer-user-agent': 'é' })).toEqual({ invalid: 'x-customer-user-agent' });
    expect(checkFapiHeaders({ 'x-fapi-customer-ip-address': ['1.2.3.4', '1.2.3.4'] })).toEqual({ invalid: 'x-fapi-customer-ip-address' });
  });

  it('passes absent headers and returns the customer address', () => {
    expect(checkFapiHeaders({})).toEqual({ customerIp: undefined });
    expect(checkFapiHeaders({ 'x-fapi-customer-ip-address': '2001:db8::1', 'x-fapi-auth-date': 'Sun, 22 Nov 2026 17:57:00 GMT' })).toEqual({
      customerIp: '2001:db8::1',
    });
  });
});
