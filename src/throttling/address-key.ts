import { isIP } from 'node:net';

/**
 * The throttling key of a source address. IPv4: the address. IPv6: its network prefix of
 * `ipv6Prefix` bits (THROTTLE_IPV6_PREFIX, 64 by default), written in full: one subscriber is
 * handed a whole /64 (RFC 6177), so keyed by /128 a single host could spread its requests over
 * 2^64 budgets. A zone id (`fe80::1%eth0`, RFC 6874) names a local interface, not a host, and is
 * dropped. `undefined` for anything that is not an address.
 */
export function addressKey(address: string, ipv6Prefix: number): string | undefined {
  const bare = address.split('%', 1)[0];
  const version = isIP(bare);
  if (version === 4) return bare;
  if (version !== 6) return undefined;
  const groups = ipv6Groups(bare);
  // An IPv4-mapped address in any spelling (`::ffff:1.2.3.4`, `::ffff:102:304`) is that IPv4 host.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  }
  const masked = groups.map((group, i) => {
    const bits = Math.max(0, Math.min(16, ipv6Prefix - i * 16));
    return bits === 0 ? 0 : group & ((0xffff << (16 - bits)) & 0xffff);
  });
  return `${masked.map((group) => group.toString(16)).join(':')}/${ipv6Prefix}`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
export function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}
