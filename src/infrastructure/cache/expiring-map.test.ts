import { describe, expect, it } from 'vitest';
import { TemporarilyUnavailable } from '../../protocol/errors.js';
import { HmacDpopNonces } from '../dpop-nonces.js';
import { ExpiringMap } from './expiring-map.js';
import { MemoryReplayCache } from './memory-replay-cache.js';

function clock(start = 1000) {
  const c = { now: start, fn: () => c.now };
  return c;
}

describe('ExpiringMap', () => {
  it('forgets entries at their expiry', () => {
    const c = clock();
    const map = new ExpiringMap<string>(10, c.fn);
    map.set('a', 'A', 1010);
    expect(map.get('a')).toBe('A');
    c.now = 1010;
    expect(map.get('a')).toBeUndefined();
  });

  it('refuses a new entry when full of live entries, never forgetting a live one', () => {
    const c = clock();
    const map = new ExpiringMap<number>(2, c.fn);
    expect(map.set('a', 1, 2000)).toBe(true);
    expect(map.set('b', 2, 2000)).toBe(true);
    expect(map.set('c', 3, 2000)).toBe(false);
    expect([map.get('a'), map.get('b'), map.get('c')]).toEqual([1, 2, undefined]);
    expect(map.set('a', 10, 2000)).toBe(true); // replacing an existing key is fine
  });

  it('makes room by dropping expired entries, even behind a long-lived one', () => {
    const c = clock();
    const map = new ExpiringMap<number>(3, c.fn);
    map.set('long', 1, 5000);
    map.set('short-1', 2, 1100);
    map.set('short-2', 3, 1100);
    c.now = 1200;
    expect(map.set('new', 4, 1300)).toBe(true);
    expect(map.get('long')).toBe(1);
    expect(map.size).toBe(2);
  });
});

describe('MemoryReplayCache', () => {
  it('answers true the first time, false on reuse, true again after expiry', async () => {
    const c = clock();
    const cache = new MemoryReplayCache(10, c.fn);
    await expect(cache.firstUse('jti-1', 1060)).resolves.toBe(true);
    await expect(cache.firstUse('jti-1', 1060)).resolves.toBe(false);
    c.now = 1060;
    await expect(cache.firstUse('jti-1', 1120)).resolves.toBe(true);
  });

  it('refuses with temporarily_unavailable when full', async () => {
    const cache = new MemoryReplayCache(1, clock().fn);
    await cache.firstUse('a', 2000);
    await expect(cache.firstUse('b', 2000)).rejects.toBeInstanceOf(TemporarilyUnavailable);
  });
});

describe('HmacDpopNonces', () => {
  it('keeps a nonce for its period, accepts the previous one, and rotates', () => {
    const c = clock(1200);
    const nonces = new HmacDpopNonces(c.fn, 120, Buffer.alloc(32, 1));
    const first = nonces.current();
    expect(nonces.current()).toBe(first);
    c.now += 120;
    const second = nonces.current();
    expect(second).not.toBe(first);
    expect(nonces.isValid(first)).toBe(true);
    expect(nonces.isValid(second)).toBe(true);
    c.now += 120;
    expect(nonces.isValid(first)).toBe(false);
    expect(nonces.isValid('forged')).toBe(false);
  });

  it('agrees across nodes sharing the secret, and not otherwise', () => {
    const c = clock(1200);
    const secret = Buffer.alloc(32, 7);
    expect(new HmacDpopNonces(c.fn, 120, secret).current()).toBe(new HmacDpopNonces(c.fn, 120, secret).current());
    expect(new HmacDpopNonces(c.fn, 120, Buffer.alloc(32, 8)).current()).not.toBe(new HmacDpopNonces(c.fn, 120, secret).current());
  });
});
