import { describe, expect, it } from 'vitest';
import { manualClock } from '../../../test/unit/fixtures.js';
import { ExpiringMap } from './expiring-map.js';

/** A clock the test moves by hand (seconds since the epoch). */
describe('ExpiringMap: expiry', () => {
  it('keeps an entry until just before its expiry and forgets it at its expiry', () => {
    const c = manualClock();
    const map = new ExpiringMap<string>(10, c.fn);
    expect(map.set('a', 'A', 1010)).toBe(true);
    expect(map.get('a')).toBe('A');
    c.now = 1009;
    expect(map.get('a')).toBe('A');
    c.now = 1010;
    expect(map.get('a')).toBeUndefined();
    expect(map.size).toBe(0);
  });

  it('never returns an entry set with an expiry already past', () => {
    const map = new ExpiringMap<string>(10, manualClock().fn);
    map.set('a', 'A', 1000);
    map.set('b', 'B', 900);
    expect(map.get('a')).toBeUndefined();
    expect(map.get('b')).toBeUndefined();
  });

  it('replaces the value and the expiry of an existing key', () => {
    const c = manualClock();
    const map = new ExpiringMap<string>(10, c.fn);
    map.set('a', 'A', 1010);
    map.set('a', 'A2', 1100);
    expect(map.size).toBe(1);
    c.now = 1050;
    expect(map.get('a')).toBe('A2');
    c.now = 1100;
    expect(map.get('a')).toBeUndefined();
  });

  it('forgets a deleted entry, and deleting an unknown key is harmless', () => {
    const map = new ExpiringMap<string>(10, manualClock().fn);
    map.set('a', 'A', 2000);
    map.delete('a');
    map.delete('never-set');
    expect(map.get('a')).toBeUndefined();
    expect(map.size).toBe(0);
  });

  it('answers undefined for an unknown key', () => {
    expect(new ExpiringMap<string>(10, manualClock().fn).get('nope')).toBeUndefined();
  });
});

describe('ExpiringMap: capacity', () => {
  it('holds up to its capacity, then refuses a new key and keeps every live entry', () => {
    const map = new ExpiringMap<number>(3, manualClock().fn);
    expect([map.set('a', 1, 2000), map.set('b', 2, 2000), map.set('c', 3, 2000)]).toEqual([true, true, true]);
    expect(map.set('d', 4, 2000)).toBe(false);
    expect(map.size).toBe(3);
    expect([map.get('a'), map.get('b'), map.get('c'), map.get('d')]).toEqual([1, 2, 3, undefined]);
  });

  it('refuses everything with a capacity of 0', () => {
    const map = new ExpiringMap<number>(0, manualClock().fn);
    expect(map.set('a', 1, 2000)).toBe(false);
    expect(map.size).toBe(0);
  });

  it('accepts a new value for an existing key when full', () => {
    const map = new ExpiringMap<number>(2, manualClock().fn);
    map.set('a', 1, 2000);
    map.set('b', 2, 2000);
    expect(map.set('a', 10, 3000)).toBe(true);
    expect(map.size).toBe(2);
    expect([map.get('a'), map.get('b')]).toEqual([10, 2]);
  });

  it('accepts a new value for an existing key that has expired when full', () => {
    const c = manualClock();
    const map = new ExpiringMap<number>(2, c.fn);
    map.set('long', 1, 5000);
    map.set('a', 2, 1100);
    c.now = 1200;
    expect(map.set('a', 3, 2000)).toBe(true);
    expect([map.get('long'), map.get('a')]).toEqual([1, 3]);
  });

  it('makes room by dropping expired entries at the head', () => {
    const c = manualClock();
    const map = new ExpiringMap<number>(2, c.fn);
    map.set('old', 1, 1100);
    map.set('live', 2, 5000);
    c.now = 1100;
    expect(map.set('new', 3, 5000)).toBe(true);
    expect(map.size).toBe(2);
    expect([map.get('old'), map.get('live'), map.get('new')]).toEqual([undefined, 2, 3]);
  });

  it('makes room by dropping expired entries behind a long-lived one', () => {
    const c = manualClock();
    const map = new ExpiringMap<number>(3, c.fn);
    map.set('long', 1, 5000);
    map.set('short-1', 2, 1100);
    map.set('short-2', 3, 1100);
    c.now = 1200;
    expect(map.set('new', 4, 1300)).toBe(true);
    expect(map.size).toBe(2);
    expect([map.get('long'), map.get('short-1'), map.get('short-2'), map.get('new')]).toEqual([1, undefined, undefined, 4]);
  });

  it('frees room on delete', () => {
    const map = new ExpiringMap<number>(1, manualClock().fn);
    map.set('a', 1, 2000);
    expect(map.set('b', 2, 2000)).toBe(false);
    map.delete('a');
    expect(map.set('b', 2, 2000)).toBe(true);
  });

  it('sweeps a full map for expired entries at most once per clock tick', () => {
    const c = manualClock();
    const map = new ExpiringMap<number>(3, c.fn);
    map.set('long', 1, 5000);
    map.set('short', 2, 1100);
    map.set('live', 3, 5000);
    c.now = 1100;
    expect(map.set('a', 4, 5000)).toBe(true); // the sweep at 1100 drops "short"
    map.delete('a');
    map.set('stale', 5, 1100); // already expired, behind live entries
    expect(map.set('b', 6, 5000)).toBe(false); // no second sweep at 1100
    c.now = 1101;
    expect(map.set('b', 6, 5000)).toBe(true);
    expect([map.get('long'), map.get('live'), map.get('b')]).toEqual([1, 3, 6]);
  });
});
