import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LockoutState } from '../../domain/lockout.js';
import { MemoryLoginLockoutStore } from './memory-login-lockouts.js';

const T = 1_800_000_000_000;
const state = (failures: number): LockoutState => ({ failures, lastFailureAt: T, locks: 0, lockedUntil: undefined });

describe('MemoryLoginLockoutStore (made-up usernames)', () => {
  it('stores, reads back, changes and deletes a state by name', async () => {
    const store = new MemoryLoginLockoutStore(10, randomBytes(32));
    expect(await store.find('mallory')).toBeUndefined();
    expect(await store.update('mallory', (current) => state((current?.failures ?? 0) + 1))).toEqual(state(1));
    expect(await store.update('mallory', (current) => state(current!.failures + 1))).toEqual(state(2));
    expect(await store.find('mallory')).toEqual(state(2));
    expect(await store.find('Mallory')).toBeUndefined(); // usernames are case-sensitive, as in the users table
    expect(await store.findMany(['mallory', 'nobody'])).toEqual(new Map([['mallory', state(2)]]));
    expect(await store.update('mallory', () => undefined)).toBeUndefined();
    expect(store.size).toBe(0);
    await store.update('mallory', () => state(3));
    expect(await store.clear('mallory')).toEqual(state(3));
    expect(await store.clear('mallory')).toBeUndefined();
  });

  it('keeps no name: only HMAC-SHA256 digests under the key it was given', async () => {
    const key = randomBytes(32);
    const store = new MemoryLoginLockoutStore(10, key);
    await store.update('carol.secret-name@example.com', () => state(1));
    expect(store.digests()).toEqual([createHmac('sha256', key).update('carol.secret-name@example.com').digest('base64url')]);
    // Another process (another key) keeps another digest for the same name.
    const other = new MemoryLoginLockoutStore(10, randomBytes(32));
    await other.update('carol.secret-name@example.com', () => state(1));
    expect(other.digests()).not.toEqual(store.digests());
  });

  it('holds at most `capacity` names, forgetting the least recently used', async () => {
    const store = new MemoryLoginLockoutStore(3, randomBytes(32));
    for (const name of ['a', 'b', 'c']) await store.update(name, () => state(1));
    // Using "a" again makes "b" the least recently used.
    await store.update('a', (current) => state(current!.failures + 1));
    await store.update('d', () => state(1));
    expect(store.size).toBe(3);
    expect(await store.find('b')).toBeUndefined();
    expect(await store.find('a')).toEqual(state(2));
    expect(await store.find('c')).toEqual(state(1));
    expect(await store.find('d')).toEqual(state(1));
    for (let i = 0; i < 1000; i++) await store.update(`name-${i}`, () => state(1));
    expect(store.size).toBe(3);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new MemoryLoginLockoutStore(0, randomBytes(32))).toThrow(RangeError);
    expect(() => new MemoryLoginLockoutStore(1.5, randomBytes(32))).toThrow(RangeError);
  });
});
