import { isIP, isIPv4 } from 'node:net';

/**
 * The one key of every caller whose address is not an IP address: a trusted proxy that forwards
 * `unknown` or a hostname (X-Forwarded-For carries what the proxy writes). They share one budget,
 * never one each: a key per value (or per connection) would let a caller pick as many as it likes.
 */
export const INVALID_CALLER = 'invalid';

/**
 * The key a caller is counted under (the login queue's shares, the per-address rate limits):
 * - an IPv4 address as is, also when written inside IPv6: IPv4-mapped (`::ffff:1.2.3.4` or
 *   `::ffff:102:304`, RFC 4291 §2.5.5.2, a dual-stack socket) or NAT64's well-known prefix
 *   (`64:ff9b::1.2.3.4`, RFC 6052 §2.1, an IPv6-only network reaching us through a translator);
 * - an IPv6 address by its /64 prefix: one subscriber usually holds a whole /64 (RFC 6177 §2),
 *   so counting single IPv6 addresses would give one caller 2^64 shares;
 * - `1.2.3.4:5678` (a proxy that forwards the client's port) as its address, `[2001:db8::1]:443`
 *   likewise; anything else that is not an IP address (or no address) as INVALID_CALLER.
 */
export function callerKey(ip: string | undefined): string {
  // Fastify's request.ip is undefined once the client has gone (a closed socket has no address).
  if (ip === undefined) return INVALID_CALLER;
  const zone = ip.indexOf('%'); // a zone index (fe80::1%eth0) is local detail
  const address = zone === -1 ? ip : ip.slice(0, zone);
  switch (isIP(address)) {
    case 4:
      return address;
    case 6:
      return ipv6Key(address);
    default:
      return keyOfNonAddress(ip);
  }
}

/** A proxy's `address:port` as the address; anything else as INVALID_CALLER. */
function keyOfNonAddress(value: string): string {
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(value);
  if (withPort !== null && isIPv4(withPort[1]!) && isPort(withPort[2]!)) return withPort[1]!;
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(value);
  if (bracketed !== null && isIP(bracketed[1]!) === 6 && (bracketed[2] === undefined || isPort(bracketed[2]))) return ipv6Key(bracketed[1]!);
  return INVALID_CALLER;
}

const isPort = (digits: string) => Number(digits) <= 65_535;

function ipv6Key(address: string): string {
  const g = groupsOf(address.toLowerCase());
  const zeroTo = (end: number) => g.slice(0, end).every((group) => group === 0);
  // RFC 4291 §2.5.5.2 (::ffff:0:0/96) and RFC 6052 §2.1 (64:ff9b::/96): an IPv4 address inside.
  if ((zeroTo(5) && g[5] === 0xffff) || (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((group) => group === 0))) {
    return `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
  }
  return `${g.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of an address isIP accepted as IPv6 (`::` expanded, a dotted IPv4 tail read as two groups). */
function groupsOf(address: string): number[] {
  const lastColon = address.lastIndexOf(':');
  let hex = address;
  let embedded: number[] = [];
  if (address.includes('.', lastColon)) {
    const [a = 0, b = 0, c = 0, d = 0] = address.slice(lastColon + 1).split('.').map(Number);
    embedded = [a * 256 + b, c * 256 + d];
    // Keep "::" whole ("::1.2.3.4"); drop the lone separator ("::ffff:1.2.3.4").
    hex = address.endsWith('::', lastColon + 1) ? address.slice(0, lastColon + 1) : address.slice(0, lastColon);
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const [head = '', tail] = hex.split('::');
  const left = parse(head);
  if (tail === undefined) return [...left, ...embedded];
  const right = parse(tail);
  return [...left, ...Array<number>(8 - embedded.length - left.length - right.length).fill(0), ...right, ...embedded];
}
