import { TrustedProxies } from './mtls';

describe('TrustedProxies', () => {
  const proxies = new TrustedProxies(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32']);

  it.each([
    ['10.1.2.3', true],
    ['::ffff:10.1.2.3', true], // IPv4-mapped IPv6 peers match IPv4 ranges
    ['192.168.1.7', true],
    ['192.168.1.8', false],
    ['2001:db8::1', true],
    ['2001:db9::1', false],
    ['11.0.0.1', false],
    [undefined, false],
  ])('%s trusted: %s', (address, trusted) => {
    expect(proxies.includes(address)).toBe(trusted);
  });

  it('trusts nobody when the list is empty', () => {
    expect(new TrustedProxies([]).includes('127.0.0.1')).toBe(false);
  });

  it('validates entries', () => {
    for (const entry of ['10.0.0.0/8', '::1', '::/0', '1.2.3.4/32', '2001:db8::/128']) expect(TrustedProxies.isValidEntry(entry)).toBe(true);
    for (const entry of ['10.0.0.0/33', '::/129', 'example.com', '1.2.3.4/', '1.2.3.4/8/8', '1.2.3.4/x'])
      expect(TrustedProxies.isValidEntry(entry)).toBe(false);
  });

  describe('source address (docs/api.md §5)', () => {
    it('is the socket address for an untrusted peer, whatever X-Forwarded-For says', () => {
      expect(proxies.sourceAddress('203.0.113.9', '1.1.1.1')).toBe('203.0.113.9');
    });

    it('is the right-most untrusted X-Forwarded-For hop behind a trusted proxy', () => {
      expect(proxies.sourceAddress('10.0.0.2', '1.1.1.1, 203.0.113.5, 10.9.9.9')).toBe('203.0.113.5');
      expect(proxies.sourceAddress('::ffff:10.0.0.2', ['198.51.100.1', '10.0.0.3'])).toBe('198.51.100.1');
    });

    it('reads proxies’ spellings: ports, brackets, IPv4-mapped, upper-case IPv6', () => {
      expect(proxies.sourceAddress('10.0.0.2', '198.51.100.1:4711')).toBe('198.51.100.1');
      expect(proxies.sourceAddress('10.0.0.2', '[2001:DB9::1]:443')).toBe('2001:db9::1');
      expect(proxies.sourceAddress('10.0.0.2', '::ffff:198.51.100.1')).toBe('198.51.100.1');
      expect(proxies.sourceAddress('::ffff:203.0.113.9', undefined)).toBe('203.0.113.9');
    });

    it('falls back to the peer for a malformed chain, and to the left-most hop when all are trusted', () => {
      expect(proxies.sourceAddress('10.0.0.2', 'not-an-ip, 10.0.0.9')).toBe('10.0.0.2');
      expect(proxies.sourceAddress('10.0.0.2', '10.0.0.8, 10.0.0.9')).toBe('10.0.0.8');
      expect(proxies.sourceAddress('10.0.0.2', undefined)).toBe('10.0.0.2');
    });
  });
});
