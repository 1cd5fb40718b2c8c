import { describe, expect, it } from 'vitest';
import {
  currentState,
  decide,
  FORGET_AFTER_MS,
  lockDuration,
  MAX_LOCK_MS,
  recordFailure,
  releaseAttempt,
  reserveAttempt,
  retryAfterSeconds,
  settleFailure,
  startedLock,
  waitAfter,
  type LockoutPolicy,
  type LockoutState,
} from './lockout.js';

/** The defaults of config lockout: free_failures 5, lock_after 10, lock_seconds 900. */
const POLICY: LockoutPolicy = { freeFailures: 5, lockAfter: 10, lockMs: 900_000 };
const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;

/** `n` failures in a row, each at the moment it is allowed; returns the state and the time of each (from `start`). */
function failTimes(n: number, start = T0, from?: LockoutState): { state: LockoutState | undefined; at: number[] } {
  let state = from;
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
    expect(waitAfter(11, POLICY)).toBe(0);
  });

  it('is never longer than a first lock', () => {
    const policy: LockoutPolicy = { freeFailures: 1, lockAfter: 1000, lockMs: 60_000 };
    expect(waitAfter(7, policy)).toBe(32_000);
    expect(waitAfter(8, policy)).toBe(60_000);
    expect(waitAfter(999, policy)).toBe(60_000);
  });
});

describe('lockDuration', () => {
  it('doubles at each lock in a row from lock_seconds, up to 24 h', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => lockDuration(n, POLICY) / 1000)).toEqual([900, 1800, 3600, 7200, 14_400, 28_800, 57_600]);
    expect(lockDuration(8, POLICY)).toBe(MAX_LOCK_MS);
    expect(MAX_LOCK_MS).toBe(86_400_000);
    expect(lockDuration(5000, POLICY)).toBe(MAX_LOCK_MS);
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
    expect(state).toEqual({ failures: 10, lastFailureAt: lockedAt, locks: 1, lockedUntil: lockedAt + 900_000 });
    expect(decide(state, POLICY, lockedAt + 899_999)).toEqual({ allowed: false, reason: 'locked', retryAt: lockedAt + 900_000 });
    expect(decide(state, POLICY, lockedAt + 900_000)).toEqual({ allowed: true });
  });
});

describe('locks in a row', () => {
  it('after a lock ends, one attempt is checked; if it fails the account locks again, twice as long: 900, 1800, 3600 s … 24 h', () => {
    let { state } = failTimes(10);
    const seen: number[] = [];
    for (let lock = 2; lock <= 10; lock++) {
      const end = state!.lockedUntil!;
      expect(decide(state, POLICY, end - 1)).toMatchObject({ allowed: false, reason: 'locked' });
      expect(decide(state, POLICY, end)).toEqual({ allowed: true });
      state = recordFailure(state, POLICY, end);
      expect(state).toMatchObject({ failures: 9 + lock, lastFailureAt: end, locks: lock });
      expect(startedLock(state, POLICY)).toBe(true);
      seen.push((state.lockedUntil! - end) / 1000);
    }
    expect(seen).toEqual([1800, 3600, 7200, 14_400, 28_800, 57_600, 86_400, 86_400, 86_400]);
  });

  it('a failure before lock_after starts no lock', () => {
    expect(startedLock(failTimes(9).state, POLICY)).toBe(false);
    expect(startedLock(failTimes(10).state, POLICY)).toBe(true);
    expect(startedLock(undefined, POLICY)).toBe(false);
  });
});

describe('forgetting the count', () => {
  it('does not happen when a lock ends: the next failure is number 11, and locks for 1800 s', () => {
    const { state } = failTimes(10);
    const after = state!.lockedUntil!;
    expect(currentState(state, after)).toBe(state);
    expect(recordFailure(state, POLICY, after)).toEqual({ failures: 11, lastFailureAt: after, locks: 2, lockedUntil: after + 1_800_000 });
  });

  it('does not happen when lock_seconds pass without a failure: 5 failures, 15 minutes quiet, 5 more lock', () => {
    const first = failTimes(5).state;
    const later = T0 + 15 * 60_000;
    const { state, at } = failTimes(5, later, first);
    expect(at).toEqual([0, 1000, 3000, 7000, 15_000]);
    expect(state).toMatchObject({ failures: 10, locks: 1, lockedUntil: later + 15_000 + 900_000 });
  });

  it('happens after 24 h without a failure, counted from the last failure, or from the end of the last lock', () => {
    const { state: waiting } = failTimes(8);
    const last = waiting!.lastFailureAt;
    expect(FORGET_AFTER_MS).toBe(24 * HOUR);
    expect(currentState(waiting, last + 24 * HOUR - 1)).toBe(waiting);
    expect(recordFailure(waiting, POLICY, last + 24 * HOUR - 1).failures).toBe(9);
    expect(currentState(waiting, last + 24 * HOUR)).toBeUndefined();
    expect(recordFailure(waiting, POLICY, last + 24 * HOUR)).toEqual({ failures: 1, lastFailureAt: last + 24 * HOUR, locks: 0, lockedUntil: undefined });

    // Time locked is not quiet time: a lock of 24 h ends with the count still there.
    let locked: LockoutState | undefined = failTimes(10).state;
    while (locked!.locks < 8) locked = recordFailure(locked, POLICY, locked!.lockedUntil!);
    const end = locked!.lockedUntil!;
    expect(end - locked!.lastFailureAt).toBe(24 * HOUR);
    expect(currentState(locked, end)).toBe(locked);
    expect(recordFailure(locked, POLICY, end)).toMatchObject({ failures: 18, locks: 9 });
    expect(currentState(locked, end + 24 * HOUR - 1)).toBe(locked);
    expect(decide(locked, POLICY, end + 24 * HOUR)).toEqual({ allowed: true });
    expect(recordFailure(locked, POLICY, end + 24 * HOUR)).toMatchObject({ failures: 1, locks: 0, lockedUntil: undefined });
  });

  it('is done by a success or an operator: the caller forgets the state, and the next failure is the first', () => {
    // AccountLockout.succeeded and unlock delete the state: what follows starts from nothing.
    expect(recordFailure(undefined, POLICY, T0)).toEqual({ failures: 1, lastFailureAt: T0, locks: 0, lockedUntil: undefined });
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
    expect(state).toEqual({ failures: 6, lastFailureAt: T0, locks: 0, lockedUntil: undefined });
  });

  it('lets one guess through when a lock ends, however many are sent at once', () => {
    let state = failTimes(10).state;
    const end = state!.lockedUntil!;
    const allowed: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const reserved = reserveAttempt(state, POLICY, end);
      allowed.push(reserved.decision.allowed);
      state = reserved.state;
    }
    expect(allowed).toEqual([true, false, false, false, false]);
    expect(state).toMatchObject({ failures: 11, locks: 2 });
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
    expect(reserved.state).toEqual({ failures: 10, lastFailureAt: start, locks: 1, lockedUntil: start + 900_000 });
    expect(settleFailure(reserved.state, POLICY, start + 250)).toEqual({ failures: 10, lastFailureAt: start + 250, locks: 1, lockedUntil: start + 250 + 900_000 });
    // The second lock in a row, too: its doubled length from the answer.
    const again = reserveAttempt(reserved.state, POLICY, start + 900_000).state;
    expect(settleFailure(again, POLICY, start + 900_100)).toEqual({ failures: 11, lastFailureAt: start + 900_100, locks: 2, lockedUntil: start + 900_100 + 1_800_000 });
    // Before lock_after: the past lock's end (none here) is left as it is.
    const waiting = reserveAttempt(failTimes(5).state, POLICY, T0 + 50).state;
    expect(settleFailure(waiting, POLICY, T0 + 90)).toEqual({ failures: 6, lastFailureAt: T0 + 90, locks: 0, lockedUntil: undefined });
  });

  it('a failure settled after the count was reset (by a success or an operator) is the first again', () => {
    expect(settleFailure(undefined, POLICY, T0)).toEqual({ failures: 1, lastFailureAt: T0, locks: 0, lockedUntil: undefined });
  });

  it('an attempt whose password was never checked is released, lifting the lock it made', () => {
    const { state } = failTimes(9);
    const reserved = reserveAttempt(state, POLICY, state!.lastFailureAt + 8000).state;
    expect(releaseAttempt(reserved, POLICY)).toEqual({ failures: 9, lastFailureAt: reserved!.lastFailureAt, locks: 0, lockedUntil: undefined });
    expect(releaseAttempt({ failures: 1, lastFailureAt: T0, locks: 0, lockedUntil: undefined }, POLICY)).toBeUndefined();
    expect(releaseAttempt(undefined, POLICY)).toBeUndefined();
  });

  it('releasing the attempt after a lock lifts its doubled lock and leaves the first one ended', () => {
    const locked = failTimes(10).state!;
    const end = locked.lockedUntil!;
    const reserved = reserveAttempt(locked, POLICY, end + 5).state!;
    expect(reserved).toMatchObject({ failures: 11, locks: 2 });
    const released = releaseAttempt(reserved, POLICY);
    expect(released).toEqual({ failures: 10, lastFailureAt: end + 5, locks: 1, lockedUntil: end + 5 });
    expect(decide(released, POLICY, end + 5)).toEqual({ allowed: true });
    // The next failure is the second lock again, not the third.
    expect(recordFailure(released, POLICY, end + 6)).toMatchObject({ failures: 11, locks: 2, lockedUntil: end + 6 + 1_800_000 });
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

describe('an attacker against one account with the defaults (docs/lockout.md)', () => {
  /**
   * Guesses in `hours` by someone who tries again the moment an attempt would be checked; with
   * `perRound`, who stops after that many guesses and waits until the count is forgotten.
   */
  function guesses(hours: number, perRound = Infinity): number {
    let state: LockoutState | undefined;
    let now = T0;
    let count = 0;
    let round = 0;
    while (now < T0 + hours * HOUR) {
      if (round === perRound) {
        // Quiet until forgotten: 24 h after the last failure or the end of the last lock.
        now = Math.max(state!.lastFailureAt, state!.lockedUntil ?? 0) + FORGET_AFTER_MS;
        expect(currentState(state, now)).toBeUndefined();
        round = 0;
        continue;
      }
      const decision = decide(state, POLICY, now);
      if (!decision.allowed) {
        now = decision.retryAt;
        continue;
      }
      state = recordFailure(state, POLICY, now);
      count++;
      round++;
    }
    return count;
  }

  it('gets 16 guesses in the first day, then one a day, trying as fast as allowed', () => {
    // 10 in the first 15 s, then one at the end of each lock: 915, 2715, 6315, 13 515, 27 915, 56 715 s.
    expect(guesses(1)).toBe(12);
    expect(guesses(24)).toBe(16);
    // Then a lock of 24 h after each guess: the next at 114 315 s, and one every 86 400 s.
    expect(guesses(48)).toBe(17);
    expect(guesses(30 * 24)).toBe(16 + 29);
  });

  it('gets at most about 11 a day over a month, whatever the pace (950 a day before locks escalated)', () => {
    const perDay = (perRound: number) => guesses(30 * 24, perRound) / 30;
    const rates = [5, 9, 10, 11, 12, 13, 14, 15, 16, 20].map(perDay);
    // The best: 13 guesses (10, then 3 at lock ends), then 24 h quiet after the 2-hour lock: 13 per 99 915 s.
    expect(Math.max(...rates)).toBe(perDay(13));
    expect(perDay(13)).toBeGreaterThan(11);
    expect(perDay(13)).toBeLessThan(11.5);
    // Five guesses, then quiet: never a lock, but only 5 a day now (480 a day before).
    expect(perDay(5)).toBe(5);
  });
});
