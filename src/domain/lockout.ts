/**
 * Progressive lockout of an account after failed logins in a row (docs/lockout.md): the rules,
 * pure. The caller reads and writes the state and passes the time in, in milliseconds since the
 * epoch (a 1 s wait measured in whole seconds could last a millisecond).
 *
 * The first `freeFailures` failures cost nothing; each later one makes the next attempt wait,
 * doubling (failure freeFailures+1: 1 s, then 2 s, 4 s, …); failure `lockAfter` locks the account
 * for `lockMs`, and every failure after it locks it again for twice as long as the lock before
 * (900 s, 1800 s, 3600 s, … never more than MAX_LOCK_MS). The count and the locks in a row are
 * forgotten only at a success, an operator's unlock, or FORGET_AFTER_MS during which a failure
 * could have been made and none was (counted from the end of the last lock) — never merely because
 * a lock ended, so a patient guesser never gets a fresh allowance for free. This is the rate
 * limiting of NIST SP 800-63B §5.2.2 ("a period of time that increases as the account approaches
 * its maximum allowance"), without its hard stop: every lock ends by itself, so an unattended
 * provider never leaves its users locked out for good by someone else's guesses.
 */

export interface LockoutPolicy {
  /** Failed logins in a row that cost nothing (config lockout.free_failures). */
  readonly freeFailures: number;
  /** The failure that first locks the account (config lockout.lock_after), greater than freeFailures. */
  readonly lockAfter: number;
  /** How long the first lock lasts, ms (lockout.lock_seconds); each next one in a row doubles it. */
  readonly lockMs: number;
}

/** The longest a lock lasts, however many came before it: 24 h (docs/lockout.md). */
export const MAX_LOCK_MS = 24 * 3_600_000;

/** Quiet time (no failure while one could have been made) after which the count is forgotten: 24 h. */
export const FORGET_AFTER_MS = 24 * 3_600_000;

/** An account's failed logins in a row; none (undefined) once forgotten. Times in ms. */
export interface LockoutState {
  /** At least 1. An attempt under way counts as a failure until it is settled (see reserveAttempt). */
  readonly failures: number;
  readonly lastFailureAt: number;
  /** Locks in a row: 0 before failure lockAfter, then one more at each failure (each one locks). */
  readonly locks: number;
  /** When the latest lock ends, or ended (kept until the state is forgotten); undefined before the first. */
  readonly lockedUntil: number | undefined;
}

export type LockoutReason = 'throttled' | 'locked';

export type LockoutDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** throttled: a doubling wait after a failure; locked: failure lockAfter (or a later one) was reached. */
      readonly reason: LockoutReason;
      /** When an attempt will be checked again, ms. */
      readonly retryAt: number;
    };

const SECOND_MS = 1000;
const ALLOWED: LockoutDecision = { allowed: true };

/**
 * The wait before the attempt after failure number `failures`, in ms: none up to freeFailures,
 * then 1 s doubling at each failure, never longer than a first lock. None from lockAfter on: those
 * failures lock.
 */
export function waitAfter(failures: number, policy: LockoutPolicy): number {
  if (failures <= policy.freeFailures || failures >= policy.lockAfter) return 0;
  return Math.min(SECOND_MS * 2 ** (failures - policy.freeFailures - 1), policy.lockMs);
}

/** How long lock number `lock` in a row lasts, ms: lockMs, doubled at each lock, at most MAX_LOCK_MS. */
export function lockDuration(lock: number, policy: LockoutPolicy): number {
  return Math.min(policy.lockMs * 2 ** Math.max(0, lock - 1), Math.max(MAX_LOCK_MS, policy.lockMs));
}

/**
 * The state that still counts at `now`: forgotten once FORGET_AFTER_MS passed since the last
 * failure or, when later, since the last lock ended (time spent locked is not quiet time: no
 * failure could be made then).
 */
export function currentState(state: LockoutState | undefined, now: number): LockoutState | undefined {
  if (state === undefined) return undefined;
  const quietSince = Math.max(state.lastFailureAt, state.lockedUntil ?? state.lastFailureAt);
  return now - quietSince < FORGET_AFTER_MS ? state : undefined;
}

/** Whether `state` holds a lock at `now`. */
export function isLocked(state: LockoutState | undefined, now: number): boolean {
  return state?.lockedUntil !== undefined && now < state.lockedUntil;
}

/** Whether a login attempt at `now` may have its password checked. */
export function decide(state: LockoutState | undefined, policy: LockoutPolicy, now: number): LockoutDecision {
  const live = currentState(state, now);
  if (live === undefined) return ALLOWED;
  if (isLocked(live, now)) return { allowed: false, reason: 'locked', retryAt: live.lockedUntil! };
  // A lock ended: one attempt is checked, and if it fails it locks again, twice as long.
  if (live.failures >= policy.lockAfter) return ALLOWED;
  const retryAt = live.lastFailureAt + waitAfter(live.failures, policy);
  return now < retryAt ? { allowed: false, reason: 'throttled', retryAt } : ALLOWED;
}

/** One more failed login at `now`: failure lockAfter, and every one after it, starts a lock. */
export function recordFailure(state: LockoutState | undefined, policy: LockoutPolicy, now: number): LockoutState {
  const live = currentState(state, now);
  const failures = (live?.failures ?? 0) + 1;
  if (failures < policy.lockAfter) return { failures, lastFailureAt: now, locks: live?.locks ?? 0, lockedUntil: live?.lockedUntil };
  const locks = (live?.locks ?? 0) + 1;
  return { failures, lastFailureAt: now, locks, lockedUntil: now + lockDuration(locks, policy) };
}

/** Whether the failure that made `state` (its latest) started a lock: the one user.locked reports. */
export function startedLock(state: LockoutState | undefined, policy: LockoutPolicy): state is LockoutState & { lockedUntil: number } {
  return state !== undefined && state.failures >= policy.lockAfter && state.locks > 0 && state.lockedUntil !== undefined;
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
  if (!decision.allowed) return { decision, state: currentState(state, now) };
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
    locks: state.locks,
    lockedUntil: startedLock(state, policy) ? Math.max(state.lockedUntil, now + lockDuration(state.locks, policy)) : state.lockedUntil,
  };
}

/**
 * The reserved attempt's password was never checked (the hashing queue was full): it does not
 * count, nor does the lock it started. The lock before it had ended when the attempt was allowed;
 * its end is not kept, the attempt's time stands in for it (no later: nothing is locked again).
 */
export function releaseAttempt(state: LockoutState | undefined, policy: LockoutPolicy): LockoutState | undefined {
  if (state === undefined || state.failures <= 1) return undefined;
  const failures = state.failures - 1;
  if (!startedLock(state, policy)) return { ...state, failures };
  const locks = state.locks - 1;
  return { failures, lastFailureAt: state.lastFailureAt, locks, lockedUntil: locks === 0 ? undefined : Math.min(state.lastFailureAt, state.lockedUntil) };
}

/** Retry-After (RFC 9110 §10.2.3) for a refusal: whole seconds, rounded up, at least 1. */
export function retryAfterSeconds(retryAt: number, now: number): number {
  return Math.max(1, Math.ceil((retryAt - now) / SECOND_MS));
}
