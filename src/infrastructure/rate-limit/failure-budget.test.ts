import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalFailureBudget } from './failure-budget.js';

describe('LocalFailureBudget (@fastify/rate-limit LocalStore)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_700_000_000_000);
  });
  afterEach(() => vi.useRealTimers());

  it('refuses a key once it failed `max` times, until its window ends; checking counts nothing', () => {
    const budget = new LocalFailureBudget(3, 60, 100);
    for (let i = 0; i < 10; i++) expect(budget.retryAfter('a')).toBe(0);
    budget.fail('a');
    budget.fail('a');
    expect(budget.retryAfter('a')).toBe(0);
    vi.advanceTimersByTime(10_000);
    budget.fail('a');
    // The window started at the first failure: 50 s are left.
    expect(budget.retryAfter('a')).toBe(50);
    expect(budget.retryAfter('b')).toBe(0);
    vi.advanceTimersByTime(49_001);
    expect(budget.retryAfter('a')).toBe(1);
    vi.advanceTimersByTime(999);
    expect(budget.retryAfter('a')).toBe(0);
    budget.fail('a');
    expect(budget.retryAfter('a')).toBe(0);
  });

  it('holds at most `capacity` keys: the least recently used starts afresh', () => {
    const budget = new LocalFailureBudget(1, 60, 2);
    budget.fail('a');
    budget.fail('b');
    budget.fail('c'); // drops a
    expect(budget.retryAfter('a')).toBe(0);
    expect(budget.retryAfter('c')).toBe(60);
  });
});
