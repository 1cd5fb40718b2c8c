import { describe, expect, it } from 'vitest';
import { callerKey, INVALID_CALLER } from './caller-key.js';

describe('callerKey', () => {
  it('keeps an IPv4 address', () => {
    expect(callerKey('203.0.113.7')).toBe('203.0.113.7');
  });

  it('reads an IPv4 address written inside IPv6: mapped (RFC 4291 §2.5.5.2), dotted or hex, however written', () => {
    expect(callerKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(callerKey('::FFFF:203.0.113.7')).toBe('203.0.113.7');
    expect(callerKey('::ffff:102:304')).toBe('1.2.3.4');
    expect(callerKey('::ffff:cb00:7107')).toBe('203.0.113.7');
    expect(callerKey('0:0:0:0:0:ffff:cb00:7107')).toBe('203.0.113.7');
    expect(callerKey('0:0:0:0:0:ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('reads the IPv4 address behind NAT64 (RFC 6052 §2.1 well-known prefix 64:ff9b::/96)', () => {
    expect(callerKey('64:ff9b::203.0.113.7')).toBe('203.0.113.7');
    expect(callerKey('64:ff9b::102:304')).toBe('1.2.3.4');
    expect(callerKey('64:ff9b:0:0:0:0:cb00:7107')).toBe('203.0.113.7');
    // Another prefix of the same /32 is an ordinary IPv6 address.
    expect(callerKey('64:ff9b:1::102:304')).toBe('64:ff9b:1:0::/64');
  });

  it('counts an IPv6 address under its /64, however it is written', () => {
    const key = '2001:db8:0:1::/64';
    expect(callerKey('2001:db8:0:1::1')).toBe(key);
    expect(callerKey('2001:db8:0:1:ffff:ffff:ffff:ffff')).toBe(key);
    expect(callerKey('2001:0DB8:0000:0001:0:0:0:2')).toBe(key);
    expect(callerKey('2001:db8:0:1::1.2.3.4')).toBe(key);
    expect(callerKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(callerKey('2001:db8:0:2::1')).not.toBe(key);
  });

  it('handles loopback, the unspecified address and zone indexes', () => {
    expect(callerKey('::1')).toBe('0:0:0:0::/64');
    expect(callerKey('::')).toBe('0:0:0:0::/64');
    expect(callerKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it("strips the port a proxy forwarded with the address", () => {
    expect(callerKey('1.2.3.4:5678')).toBe('1.2.3.4');
    expect(callerKey('[2001:db8:0:1::7]:443')).toBe('2001:db8:0:1::/64');
    expect(callerKey('[::ffff:1.2.3.4]:443')).toBe('1.2.3.4');
  });

  it('counts every value that is not an IP address under one key, never one each', () => {
    for (const value of ['unknown', '', 'proxy.example', '1.2.3.4:99999', '1.2.3.256', '01.2.3.4', '1.2.3.4:', '1.2.3.4 ', '2001:db8::g', '[2001:db8::1', '_hidden', '1.2.3.4, 5.6.7.8']) {
      expect(callerKey(value), value).toBe(INVALID_CALLER);
    }
    expect(callerKey(undefined)).toBe(INVALID_CALLER);
    expect(INVALID_CALLER).toBe('invalid');
  });
});
