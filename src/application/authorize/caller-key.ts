/**
 * The key a caller's share of the login queue is counted under: its IPv4 address, or the /64
 * prefix of its IPv6 address (one subscriber usually holds a whole /64, RFC 6177 §2, so counting
 * single IPv6 addresses would give one caller 2^64 shares).
 */
export function callerKey(ip: string): string {
  const address = ip.split('%')[0]!.toLowerCase(); // a zone index (fe80::1%eth0) is local detail
  if (!address.includes(':')) return address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped) return mapped[1]!; // RFC 4291 §2.5.5.2: an IPv4 client seen through a dual stack
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':') + '::/64';
}
