import fc from 'fast-check';
import { addressKey, ipv6Groups } from './address-key';

const groups = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });
const hex = (g: number[]) => g.map((x) => x.toString(16));

/** Several spellings of one IPv6 address: full, zero-padded, upper case, compressed (WHATWG), IPv4 tail. */
function spellings(g: number[]): string[] {
  const full = hex(g).join(':');
  const compressed = new URL(`http://[${full}]/`).hostname.slice(1, -1);
  const tail = `${hex(g.slice(0, 6)).join(':')}:${g[6] >> 8}.${g[6] & 0xff}.${g[7] >> 8}.${g[7] & 0xff}`;
  return [full, g.map((x) => x.toString(16).padStart(4, '0')).join(':'), full.toUpperCase(), compressed, tail, `${compressed}%eth0`];
}

describe('addressKey', () => {
  it('parses every spelling of an IPv6 address to the same groups', () => {
    fc.assert(
      fc.property(groups, (g) => {
        for (const spelling of spellings(g).map((s) => s.split('%')[0])) expect(ipv6Groups(spelling)).toEqual(g);
      }),
    );
  });

  it('gives every address of one /64 one key, whatever its spelling or zone', () => {
    fc.assert(
      fc.property(groups, groups, (a, b) => {
        const sameNetwork = [...a.slice(0, 4), ...b.slice(4)];
        const keys = new Set([...spellings(a), ...spellings(sameNetwork)].map((s) => addressKey(s, 64)));
        expect(keys.size).toBe(1);
      }),
    );
  });

  it('gives addresses in different /64s different keys', () => {
    fc.assert(
      fc.property(groups, groups, (a, b) => {
        fc.pre(a.slice(0, 4).join() !== b.slice(0, 4).join());
        expect(addressKey(hex(a).join(':'), 64)).not.toBe(addressKey(hex(b).join(':'), 64));
      }),
    );
  });

  it('honours any prefix length', () => {
    fc.assert(
      fc.property(groups, fc.integer({ min: 1, max: 128 }), (g, prefix) => {
        // Flipping a bit at or past the prefix keeps the key; one before it changes it.
        const flip = (bit: number) => g.map((x, i) => (i === Math.floor(bit / 16) ? x ^ (0x8000 >> (bit % 16)) : x));
        const key = addressKey(hex(g).join(':'), prefix);
        if (prefix < 128) expect(addressKey(hex(flip(prefix)).join(':'), prefix)).toBe(key);
        expect(addressKey(hex(flip(prefix - 1)).join(':'), prefix)).not.toBe(key);
      }),
    );
  });

  it('keys an IPv4-mapped address in any spelling as that IPv4 host', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), (octets) => {
        const v4 = octets.join('.');
        const hi = ((octets[0] << 8) | octets[1]).toString(16);
        const lo = ((octets[2] << 8) | octets[3]).toString(16);
        for (const spelling of [`::ffff:${v4}`, `::ffff:${hi}:${lo}`, `0:0:0:0:0:ffff:${hi}:${lo}`, `::FFFF:${hi.toUpperCase()}:${lo}`]) {
          expect(addressKey(spelling, 64)).toBe(v4);
        }
      }),
    );
  });

  it('keeps IPv4 addresses whole and refuses what is no address', () => {
    expect(addressKey('203.0.113.7', 64)).toBe('203.0.113.7');
    expect(addressKey('2001:db8:1:2:3:4:5:6', 64)).toBe('2001:db8:1:2:0:0:0:0/64');
    expect(addressKey('fe80::1%25eth0', 64)).toBe('fe80:0:0:0:0:0:0:0/64');
    expect(addressKey('not-an-address', 64)).toBeUndefined();
    expect(addressKey('', 64)).toBeUndefined();
  });
});
