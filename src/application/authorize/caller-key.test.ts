import { describe, expect, it } from 'vitest';
import { callerKey } from './caller-key.js';

describe('callerKey', () => {
  it('keeps an IPv4 address, also when mapped into IPv6', () => {
    expect(callerKey('203.0.113.7')).toBe('203.0.113.7');
    expect(callerKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts an IPv6 address under its /64, however it is written', () => {
    const key = '2001:db8:0:1::/64';
    expect(callerKey('2001:db8:0:1::1')).toBe(key);
    expect(callerKey('2001:db8:0:1:ffff:ffff:ffff:ffff')).toBe(key);
    expect(callerKey('2001:0DB8:0000:0001:0:0:0:2')).toBe(key);
    expect(callerKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(callerKey('2001:db8:0:2::1')).not.toBe(key);
  });

  it('handles loopback, the unspecified address and zone indexes', () => {
    expect(callerKey('::1')).toBe('0:0:0:0::/64');
    expect(callerKey('::')).toBe('0:0:0:0::/64');
    expect(callerKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});
