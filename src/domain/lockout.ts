/**
 * Progressive lockout of an account after failed logins in a row (docs/lockout.md): the rules,
 * pure. The caller reads and writes the state and passes the time in, in milliseconds since the
 * epoch (a 1 s wait measured in whole seconds could last a millisecond).
 *
 * The first `freeFailures` failures cost nothing; each later one makes the next attempt wait,
 * doubling (failure freeFailures+1: 1 s, then 2 s, 4 s, …); failure `lockAfter` locks the account
 * for `lockMs`. The count is forgotten at a success, when a lock ends (the next failure is the
 * first again), and once `lockMs` pass without a failure. This is the rate limiting of NIST SP
 * 800-63B §5.2.2 ("a period of time that increases as the account approaches its maximum
 * allowance"), without its hard stop: a lock ends by itself, so an unattended provider never
 * leaves its users locked out by someone else's guesses.
 */

export interface LockoutPolicy {
  /** Failed logins in a row that cost nothing (config lockout.free_failures). */
  readonly freeFailures: number;
  /** The failure that locks the account (config lockout.lock_after), greater than freeFailures. */
  readonly lockAfter: number;
  /** How long a lock lasts, and how long without a failure forgets the count, in ms (lockout.lock_seconds). */
  readonly lockMs: number;
}

/** An account's failed logins in a row; none (undefined) once forgotten. Times in ms. */
export interface LockoutState {
  /** At least 1. An attempt under way counts as a failure until it is settled (see reserveAttempt). */
  readonly failures: number;
  readonly lastFailureAt: number;
  /** Set from failure `lockAfter` on: no attempt is checked before then. */
  readonly lockedUntil: number | undefined;
}

export type LockoutReason = 'throttled' | 'locked';

export type LockoutDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** throttled: a doubling wait after a failure; locked: failure lockAfter was reached. */
      readonly reason: LockoutReason;
      /** When an attempt will be checked again, ms. */
      readonly retryAt: number;
    };

const SECOND_MS = 1000;
const ALLOWED: LockoutDecision = { allowed: true };

/**
 * The wait before the attempt after failure number `failures`, in ms: none up to freeFailures,
 * then 1 s doubling at each failure, never longer than a lock. None at lockAfter: that is a lock.
 */
export function waitAfter(failures: number, policy: LockoutPolicy): number {
  if (failures <= policy.freeFailures || failures >= policy.lockAfter) return 0;
  return Math.min(SECOND_MS * 2 ** (failures - policy.freeFailures - 1), policy.lockMs);
}

/** The state that still counts at `now`: forgotten once its lock ended or lockMs passed since the last failure. */
export function currentState(state: LockoutState | undefined, policy: LockoutPolicy, now: number): LockoutState | undefined {
  if (state === undefined) return undefined;
  if (state.lockedUntil !== undefined) return now < state.lockedUntil ? state : undefined;
  return now - state.lastFailureAt < policy.lockMs ? state : undefined;
}

/** Whether a login attempt at `now` may have its password checked. */
export function decide(state: LockoutState | undefined, policy: LockoutPolicy, now: number): LockoutDecision {
  const live = currentState(state, policy, now);
  if (live === undefined) return ALLOWED;
  if (live.lockedUntil !== undefined) return { allowed: false, reason: 'locked', retryAt: live.lockedUntil };
  const retryAt = live.lastFailureAt + waitAfter(live.failures, policy);
  return now < retryAt ? { allowed: false, reason: 'throttled', retryAt } : ALLOWED;
}

/** One more failed login at `now`: failure number lockAfter (or beyond) locks the account for lockMs. */
export function recordFailure(state: LockoutState | undefined, policy: LockoutPolicy, now: number): LockoutState {
  const failures = (currentState(state, policy, now)?.failures ?? 0) + 1;
  return { failures, lastFailureAt: now, lockedUntil: failures >= policy.lockAfter ? now + policy.lockMs : undefined };
}

/**
 * An attempt allowed at `now` is counted as a failure before its password is checked, so that
 * guesses sent at once cannot all slip through while the first ones are being checked: each one
 * sees the others counted. The attempt then settles: settleFailure, a success (the state is
 * forgotten), or releaseAttempt when its password could not be checked.
 */
export function reserveAttempt(
  state: LockoutState | undefined,
  policy: LockoutPolicy,
  now: number,
): { readonly decision: LockoutDecision; readonly state: LockoutState | undefined } {
  const decision = decide(state, policy, now);
  if (!decision.allowed) return { decision, state: currentState(state, policy, now) };
  return { decision, state: recordFailure(state, policy, now) };
}

/**
 * The reserved attempt's password was wrong: the wait (or lock) counts from now, when the answer
 * goes out, rather than from when the check began. With no state (a success or an operator reset
 * the count meanwhile), this failure is the first again.
 */
export function settleFailure(state: LockoutState | undefined, policy: LockoutPolicy, now: number): LockoutState {
  if (state === undefined) return recordFailure(undefined, policy, now);
  return {
    failures: state.failures,
    lastFailureAt: Math.max(state.lastFailureAt, now),
    lockedUntil: state.lockedUntil === undefined ? undefined : Math.max(state.lockedUntil, now + policy.lockMs),
  };
}

/** The reserved attempt's password was never checked (the hashing queue was full): it does not count. */
export function releaseAttempt(state: LockoutState | undefined, policy: LockoutPolicy): LockoutState | undefined {
  if (state === undefined || state.failures <= 1) return undefined;
  const failures = state.failures - 1;
  return { failures, lastFailureAt: state.lastFailureAt, lockedUntil: failures >= policy.lockAfter ? state.lockedUntil : undefined };
}

/** Retry-After (RFC 9110 §10.2.3) for a refusal: whole seconds, rounded up, at least 1. */
export function retryAfterSeconds(retryAt: number, now: number): number {
  return Math.max(1, Math.ceil((retryAt - now) / SECOND_MS));
}
