/**
 * Which kind of IP address a webhook target resolves to. Only `public` ones may be sent to
 * (unless the operator allows private targets): anything else would let whoever registers a
 * webhook make this server POST into its own network (SSRF): the loopback interface, the private
 * network, a cloud's metadata service on a link-local address.
 *
 * IPv6 addresses that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`,
 * 6to4 `2002::/16`) are judged by the IPv4 address they carry, since that is where a packet to
 * them can end up. Pure: text in, a class out.
 */

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'multicast'
  | 'unspecified'
  /** Documentation, benchmarking, broadcast, reserved and deprecated ranges: never a real target. */
  | 'reserved'
  /** Not an IP address at all. */
  | 'invalid';

interface Range {
  readonly bytes: readonly number[];
  readonly bits: number;
  readonly kind: Exclude<AddressClass, 'public' | 'invalid'>;
}

const v4 = (text: string, bits: number, kind: Range['kind']): Range => ({
  bytes: parseIpv4(text) ?? [],
  bits,
  kind,
});
const v6 = (text: string, bits: number, kind: Range['kind']): Range => ({
  bytes: parseIpv6(text) ?? [],
  bits,
  kind,
});

/** Most specific first: the first range that holds an address names its class. */
const ipv4Ranges: readonly Range[] = [
  v4('255.255.255.255', 32, 'reserved'),
  v4('0.0.0.0', 8, 'unspecified'),
  v4('10.0.0.0', 8, 'private'),
  v4('100.64.0.0', 10, 'private'), // carrier-grade NAT
  v4('127.0.0.0', 8, 'loopback'),
  v4('169.254.0.0', 16, 'link-local'),
  v4('172.16.0.0', 12, 'private'),
  v4('192.0.0.0', 24, 'reserved'), // IETF protocol assignments
  v4('192.0.2.0', 24, 'reserved'), // documentation
  v4('192.88.99.0', 24, 'reserved'), // 6to4 relay anycast
  v4('192.168.0.0', 16, 'private'),
  v4('198.18.0.0', 15, 'reserved'), // benchmarking
  v4('198.51.100.0', 24, 'reserved'), // documentation
  v4('203.0.113.0', 24, 'reserved'), // documentation
  v4('224.0.0.0', 4, 'multicast'),
  v4('240.0.0.0', 4, 'reserved'),
];

const ipv6Ranges: readonly Range[] = [
  v6('::', 128, 'unspecified'),
  v6('::1', 128, 'loopback'),
  v6('64:ff9b:1::', 48, 'private'), // local-use NAT64
  v6('100::', 64, 'reserved'), // discard-only
  v6('2001::', 32, 'reserved'), // Teredo: tunnels to an address it hides
  v6('2001:db8::', 32, 'reserved'), // documentation
  v6('3fff::', 20, 'reserved'), // documentation
  v6('fc00::', 7, 'unique-local'),
  v6('fe80::', 10, 'link-local'),
  v6('fec0::', 10, 'private'), // site-local, deprecated
  v6('ff00::', 8, 'multicast'),
  v6('::', 96, 'reserved'), // IPv4-compatible, deprecated
];

export function classifyAddress(address: string): AddressClass {
  const ipv4 = parseIpv4(address);
  if (ipv4 !== null) return classifyIpv4(ipv4);
  const ipv6 = parseIpv6(address);
  if (ipv6 === null) return 'invalid';
  const carried = carriedIpv4(ipv6);
  if (carried !== null) return classifyIpv4(carried);
  return ipv6Ranges.find((range) => within(ipv6, range))?.kind ?? 'public';
}

function classifyIpv4(bytes: readonly number[]): AddressClass {
  return ipv4Ranges.find((range) => within(bytes, range))?.kind ?? 'public';
}

/** The IPv4 address an IPv6 address stands for, if it is one of the forms that carry one. */
function carriedIpv4(bytes: readonly number[]): readonly number[] | null {
  const startsWith = (prefix: readonly number[]) =>
    prefix.every((byte, index) => bytes[index] === byte);
  // ::ffff:a.b.c.d (IPv4-mapped) and 64:ff9b::a.b.c.d (NAT64): the last 32 bits.
  if (
    startsWith([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]) ||
    startsWith([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])
  ) {
    return bytes.slice(12, 16);
  }
  // 2002:aabb:ccdd::/48 (6to4): the 32 bits after the prefix.
  if (startsWith([0x20, 0x02])) return bytes.slice(2, 6);
  return null;
}

function within(bytes: readonly number[], range: Range): boolean {
  if (bytes.length !== range.bytes.length) return false;
  let bits = range.bits;
  for (let index = 0; bits > 0; index += 1, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[index] ?? 0) & mask) !== ((range.bytes[index] ?? 0) & mask)) return false;
  }
  return true;
}

/** Dotted-quad IPv4 (`a.b.c.d`, each 0-255, no leading zeros) as 4 bytes, or null. */
export function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes.push(value);
  }
  return bytes;
}

/**
 * IPv6 text (RFC 4291: `::` once at most, an IPv4 tail allowed, a `%zone` ignored, brackets
 * allowed) as 16 bytes, or null.
 */
export function parseIpv6(text: string): number[] | null {
  let rest = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = rest.indexOf('%');
  if (zone >= 0) rest = rest.slice(0, zone);
  if (!/^[0-9A-Fa-f:.]+$/.test(rest)) return null;
  if (rest.includes('.')) {
    // An IPv4 tail is the last two groups written another way.
    const lastColon = rest.lastIndexOf(':');
    const ipv4 = parseIpv4(rest.slice(lastColon + 1));
    if (lastColon < 0 || ipv4 === null) return null;
    const [a, b, c, d] = ipv4 as [number, number, number, number];
    rest = `${rest.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = rest.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (half: string): number[] | null => {
    if (half === '') return [];
    const groups: number[] = [];
    for (const group of half.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(group)) return null;
      groups.push(Number.parseInt(group, 16));
    }
    return groups;
  };
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (head === null || tail === null) return null;
  const present = head.length + tail.length;
  // Without `::` all eight groups are written; with it, at least one is left out.
  if (halves.length === 1 ? present !== 8 : present > 7) return null;
  const groups = [...head, ...new Array<number>(8 - present).fill(0), ...tail];
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}
