import { describe, expect, it } from 'vitest';
import {
  currentState,
  decide,
  recordFailure,
  releaseAttempt,
  reserveAttempt,
  retryAfterSeconds,
  settleFailure,
  waitAfter,
  type LockoutPolicy,
  type LockoutState,
} from './lockout.js';

/** The defaults of config lockout: free_failures 5, lock_after 10, lock_seconds 900. */
const POLICY: LockoutPolicy = { freeFailures: 5, lockAfter: 10, lockMs: 900_000 };
const T0 = 1_800_000_000_000;

/** `n` failures in a row, each at the moment it is allowed; returns the state and the time of the last. */
function failTimes(n: number, start = T0): { state: LockoutState | undefined; at: number[] } {
  let state: LockoutState | undefined;
  let now = start;
  const at: number[] = [];
  for (let i = 0; i < n; i++) {
    const decision = decide(state, POLICY, now);
    if (!decision.allowed) now = decision.retryAt;
    expect(decide(state, POLICY, now).allowed).toBe(true);
    state = recordFailure(state, POLICY, now);
    at.push(now - start);
  }
  return { state, at };
}

describe('waitAfter', () => {
  it('is nothing for the free failures, then exactly 1, 2, 4, 8 s, and nothing at lock_after (a lock)', () => {
    expect([1, 2, 3, 4, 5].map((n) => waitAfter(n, POLICY))).toEqual([0, 0, 0, 0, 0]);
    expect([6, 7, 8, 9].map((n) => waitAfter(n, POLICY))).toEqual([1000, 2000, 4000, 8000]);
    expect(waitAfter(10, POLICY)).toBe(0);
  });

  it('is never longer than a lock', () => {
    const policy: LockoutPolicy = { freeFailures: 1, lockAfter: 1000, lockMs: 60_000 };
    expect(waitAfter(7, policy)).toBe(32_000);
    expect(waitAfter(8, policy)).toBe(60_000);
    expect(waitAfter(999, policy)).toBe(60_000);
  });
});

describe('decide', () => {
  it('allows an account with no failures', () => {
    expect(decide(undefined, POLICY, T0)).toEqual({ allowed: true });
  });

  it('allows the attempts after the 5 free failures at once', () => {
    const { state, at } = failTimes(5);
    expect(at).toEqual([0, 0, 0, 0, 0]);
    expect(decide(state, POLICY, T0)).toEqual({ allowed: true });
  });

  it('makes the attempt after failure 6 wait exactly 1 s, then 2, 4 and 8 s', () => {
    const { state } = failTimes(6);
    expect(decide(state, POLICY, T0)).toEqual({ allowed: false, reason: 'throttled', retryAt: T0 + 1000 });
    expect(decide(state, POLICY, T0 + 999)).toMatchObject({ allowed: false });
    expect(decide(state, POLICY, T0 + 1000)).toEqual({ allowed: true });
    expect(failTimes(10).at).toEqual([0, 0, 0, 0, 0, 0, 1000, 3000, 7000, 15_000]);
  });

  it('locks at failure lock_after for lock_seconds, whatever the attempt', () => {
    const { state } = failTimes(10);
    const lockedAt = T0 + 15_000;
    expect(state).toEqual({ failures: 10, lastFailureAt: lockedAt, lockedUntil: lockedAt + 900_000 });
    expect(decide(state, POLICY, lockedAt + 899_999)).toEqual({ allowed: false, reason: 'locked', retryAt: lockedAt + 900_000 });
    expect(decide(state, POLICY, lockedAt + 900_000)).toEqual({ allowed: true });
  });
});

describe('forgetting the count', () => {
  it('starts over from 1 once a lock expired', () => {
    const { state } = failTimes(10);
    const after = state!.lockedUntil!;
    expect(currentState(state, POLICY, after)).toBeUndefined();
    expect(recordFailure(state, POLICY, after)).toEqual({ failures: 1, lastFailureAt: after, lockedUntil: undefined });
  });

  it('starts over once lock_seconds passed without a failure', () => {
    const { state } = failTimes(8);
    const last = state!.lastFailureAt;
    expect(currentState(state, POLICY, last + 899_999)).toBe(state);
    expect(recordFailure(state, POLICY, last + 899_999).failures).toBe(9);
    expect(currentState(state, POLICY, last + 900_000)).toBeUndefined();
    expect(recordFailure(state, POLICY, last + 900_000).failures).toBe(1);
  });

  it('is done by a success: the caller forgets the state, and the next failure is the first', () => {
    // A success deletes the state (AccountLockout.succeeded): what follows starts from nothing.
    expect(recordFailure(undefined, POLICY, T0)).toEqual({ failures: 1, lastFailureAt: T0, lockedUntil: undefined });
  });
});

describe('attempts reserved before the password is checked', () => {
  it('lets guesses sent at once through no faster than one after the other', () => {
    let state: LockoutState | undefined;
    const allowed: boolean[] = [];
    for (let i = 0; i < 20; i++) {
      const reserved = reserveAttempt(state, POLICY, T0);
      allowed.push(reserved.decision.allowed);
      state = reserved.state;
    }
    // The 6 that sequential failures would allow at T0, and no more.
    expect(allowed.filter(Boolean)).toHaveLength(6);
    expect(state).toEqual({ failures: 6, lastFailureAt: T0, lockedUntil: undefined });
  });

  it('a refusal is not another failure', () => {
    const { state } = failTimes(6);
    const refused = reserveAttempt(state, POLICY, T0 + 10);
    expect(refused.decision).toEqual({ allowed: false, reason: 'throttled', retryAt: T0 + 1000 });
    expect(refused.state).toBe(state);
  });

  it('a wrong password settles: the wait and the lock count from the answer', () => {
    const { state } = failTimes(9);
    const start = state!.lastFailureAt + 8000;
    const reserved = reserveAttempt(state, POLICY, start);
    expect(reserved.state).toEqual({ failures: 10, lastFailureAt: start, lockedUntil: start + 900_000 });
    expect(settleFailure(reserved.state, POLICY, start + 250)).toEqual({ failures: 10, lastFailureAt: start + 250, lockedUntil: start + 250 + 900_000 });
  });

  it('a failure settled after the count was reset (by a success or an operator) is the first again', () => {
    expect(settleFailure(undefined, POLICY, T0)).toEqual({ failures: 1, lastFailureAt: T0, lockedUntil: undefined });
  });

  it('an attempt whose password was never checked is released, lifting the lock it made', () => {
    const { state } = failTimes(9);
    const reserved = reserveAttempt(state, POLICY, state!.lastFailureAt + 8000).state;
    expect(releaseAttempt(reserved, POLICY)).toEqual({ failures: 9, lastFailureAt: reserved!.lastFailureAt, lockedUntil: undefined });
    expect(releaseAttempt({ failures: 1, lastFailureAt: T0, lockedUntil: undefined }, POLICY)).toBeUndefined();
    expect(releaseAttempt(undefined, POLICY)).toBeUndefined();
  });
});

describe('retryAfterSeconds', () => {
  it('rounds up to whole seconds, at least 1', () => {
    expect(retryAfterSeconds(T0 + 1000, T0 + 3)).toBe(1);
    expect(retryAfterSeconds(T0 + 1000, T0)).toBe(1);
    expect(retryAfterSeconds(T0 + 900_000, T0 + 1)).toBe(900);
    expect(retryAfterSeconds(T0, T0)).toBe(1);
  });
});

describe('an attacker against one account with the defaults', () => {
  /** Guesses in `hours` by someone who tries again the moment an attempt would be checked. */
  function guesses(hours: number): number {
    let state: LockoutState | undefined;
    let now = T0;
    let count = 0;
    while (now < T0 + hours * 3_600_000) {
      const decision = decide(state, POLICY, now);
      if (!decision.allowed) {
        now = decision.retryAt;
        continue;
      }
      state = recordFailure(state, POLICY, now);
      count++;
    }
    return count;
  }

  it('gets 10 guesses per lock cycle of 915 s (15 s of waits, 900 s locked): 40 in the first hour, 950 a day', () => {
    expect(guesses(1)).toBe(40);
    // 86 400 s is 94.4 cycles; a cycle's 10 guesses are made in its first 15 s.
    expect(guesses(24)).toBe(950);
  });
});
