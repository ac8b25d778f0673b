import { BlockList, isIP } from 'node:net';

/**
 * Addresses a webhook may not reach unless WEBHOOK_ALLOW_PRIVATE_TARGETS: anything that is not a
 * public unicast address, where a registered URL could probe the service's own network.
 */
const FORBIDDEN = new BlockList();
const V4: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V6: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'IPv4-compatible'],
  ['64:ff9b::', 96, 'NAT64'],
  ['64:ff9b:1::', 48, 'NAT64'],
  ['100::', 64, 'discard'],
  ['2001::', 23, 'IETF protocol assignments'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];
for (const [network, prefix] of V4) FORBIDDEN.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of V6) FORBIDDEN.addSubnet(network, prefix, 'ipv6');

/** The range an address falls in when it is not a public unicast address; null when it may be reached. */
export function forbiddenRange(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const mapped = family === 6 ? embeddedIpv4(address) : null;
  // An IPv4-mapped address (::ffff:a.b.c.d) connects to that IPv4 address: judged as it.
  if (mapped) return forbiddenRange(mapped);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (!FORBIDDEN.check(address, type)) return null;
  for (const [network, prefix, kind] of family === 4 ? V4 : V6) {
    const one = new BlockList();
    one.addSubnet(network, prefix, type);
    if (one.check(address, type)) return kind;
  }
  return 'reserved';
}

/** `::ffff:a.b.c.d` in any spelling (`::ffff:7f00:1`, `0:0:0:0:0:ffff:…`) → `a.b.c.d`; otherwise null. */
function embeddedIpv4(address: string): string | null {
  const bytes = ipv6Bytes(address);
  if (!bytes || bytes.subarray(0, 10).some((byte) => byte !== 0) || bytes[10] !== 0xff || bytes[11] !== 0xff) return null;
  return [...bytes.subarray(12)].join('.');
}

/** The 16 bytes of a valid IPv6 address (as `isIP` accepts it, zone excluded). */
function ipv6Bytes(address: string): Uint8Array | null {
  let text = address.split('%')[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  if (groups.length !== 8) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    const value = parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 255;
  });
  return bytes;
}
