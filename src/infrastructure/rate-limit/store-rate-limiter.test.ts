import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { inMemoryRateLimiter, StoreRateLimiter, type CountingStore } from './store-rate-limiter.js';

describe('inMemoryRateLimiter (@fastify/rate-limit LocalStore)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_700_000_000_000);
  });
  afterEach(() => vi.useRealTimers());

  it('answers synchronously: 0 within the budget, then the seconds left in the window', () => {
    const limiter = inMemoryRateLimiter(3, 60, 100);
    expect([limiter.hit('a'), limiter.hit('a'), limiter.hit('a')]).toEqual([0, 0, 0]);
    expect(limiter.hit('a')).toBe(60);
    vi.advanceTimersByTime(59_001);
    expect(limiter.hit('a')).toBe(1);
    // Keys count apart.
    expect(limiter.hit('b')).toBe(0);
  });

  it('starts a fresh window once the window ends', () => {
    const limiter = inMemoryRateLimiter(1, 2, 100);
    expect(limiter.hit('a')).toBe(0);
    expect(limiter.hit('a')).toBe(2);
    vi.advanceTimersByTime(2000);
    expect(limiter.hit('a')).toBe(0);
  });

  it('holds at most `capacity` keys: the least recently used starts afresh', () => {
    const limiter = inMemoryRateLimiter(1, 60, 2);
    limiter.hit('a');
    limiter.hit('b');
    limiter.hit('c'); // drops a
    expect(limiter.hit('a')).toBe(0);
    expect(limiter.hit('c')).toBe(60);
  });
});

describe('StoreRateLimiter over a store that answers later (RedisStore)', () => {
  const later: CountingStore = {
    incr(key, callback, timeWindow, max) {
      const current = key === 'busy' ? max + 1 : 1;
      setImmediate(() => (key === 'broken' ? callback(new Error('store down')) : callback(null, { current, ttl: timeWindow - 1500 })));
    },
  };

  it('gives a promise of the same answer', async () => {
    const limiter = new StoreRateLimiter(later, 5, 10);
    await expect(limiter.hit('quiet')).resolves.toBe(0);
    await expect(limiter.hit('busy')).resolves.toBe(9);
    await expect(limiter.hit('broken')).rejects.toThrow('store down');
  });
});
