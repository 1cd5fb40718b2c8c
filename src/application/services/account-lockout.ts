import {
  currentState,
  isLocked,
  releaseAttempt,
  reserveAttempt,
  retryAfterSeconds,
  settleFailure,
  startedLock,
  type LockoutPolicy,
  type LockoutReason,
  type LockoutState,
} from '../../domain/lockout.js';
import type { LoginLockoutStore } from '../ports/login-lockouts.js';

export interface AccountLockoutOptions {
  /** config lockout.enabled: when false no attempt is refused or counted (an operator may still unlock). */
  readonly enabled: boolean;
  readonly policy: LockoutPolicy;
}

export interface LockoutStores {
  /** Existing users' states, by user id: durable and shared (SQLite). */
  readonly users: LoginLockoutStore;
  /**
   * Made-up usernames' states, by the username as typed: in memory only, bounded, the names kept
   * hashed (src/infrastructure/cache/memory-login-lockouts.ts). Never the database: nothing an
   * unauthenticated caller invents is stored.
   */
  readonly unknownNames: LoginLockoutStore;
}

/** Whether a login attempt may have its password checked. */
export type LoginGate =
  | { readonly allowed: true; readonly attempt: Attempt }
  | { readonly allowed: false; readonly reason: LockoutReason; /** Whole seconds (Retry-After). */ readonly retryAfter: number };

/** An allowed attempt, counted as a failure until it is settled (failed, succeeded or abandoned). */
export interface Attempt {
  /** The user's id; undefined for a username that names no user. */
  readonly userId: string | undefined;
  /** Its key in its store: the user's id, or the username as typed. */
  readonly key: string;
  /** The state the attempt reserved (undefined when lockout is off). */
  readonly reserved: LockoutState | undefined;
}

/** An account's lockout as the control plane shows it. */
export interface LockoutStatus {
  /** Failed logins in a row that still count (0 when none). */
  readonly failures: number;
  /** Until when the account is locked, ms; undefined when it is not. */
  readonly lockedUntil: number | undefined;
}

export const NOT_LOCKED: LockoutStatus = { failures: 0, lockedUntil: undefined };

/** A lock this failure started (audit user.locked): the failures, its end (ms) and its number in a row. */
export interface StartedLock {
  readonly failures: number;
  readonly until: number;
  readonly lock: number;
}

/**
 * Progressive lockout of accounts (src/domain/lockout.ts) over their stored state: the login asks
 * before checking a password (a refused attempt costs no hash), then settles the attempt; the
 * control plane reads and clears it. A username that names no user goes through the very same
 * rules, its state kept in memory, so the answers never tell which usernames exist. `nowMs` is
 * the injected clock in milliseconds.
 */
export class AccountLockout {
  constructor(
    private readonly stores: LockoutStores,
    private readonly options: AccountLockoutOptions,
    private readonly nowMs: () => number,
  ) {}

  /** Before an existing user's password is checked: refused during a wait or a lock, else counted until settled. */
  begin(userId: string): Promise<LoginGate> {
    return this.reserve(userId, userId);
  }

  /** The same for a username that names no user (its password is checked against a stand-in hash). */
  beginUnknown(username: string): Promise<LoginGate> {
    return this.reserve(undefined, username);
  }

  /**
   * The password was wrong. `locked` when this very failure started a lock of an existing user
   * (audit user.locked); a made-up name's locks are not reported.
   */
  async failed(attempt: Attempt): Promise<{ readonly locked: StartedLock | undefined }> {
    if (attempt.reserved === undefined) return { locked: undefined };
    const { policy } = this.options;
    const settled = await this.storeOf(attempt).update(attempt.key, (current) => settleFailure(current, policy, this.nowMs()));
    // The lock is this failure's if its reservation started one and it still stands (no unlock meanwhile).
    if (attempt.userId === undefined || !startedLock(attempt.reserved, policy) || !startedLock(settled, policy)) return { locked: undefined };
    return { locked: { failures: settled.failures, until: settled.lockedUntil, lock: settled.locks } };
  }

  /** The password was right: the count and the locks in a row are forgotten. */
  async succeeded(attempt: Attempt): Promise<void> {
    if (attempt.reserved !== undefined) await this.storeOf(attempt).clear(attempt.key);
  }

  /** The password could not be checked (the hashing queue was full): the attempt does not count. */
  async abandoned(attempt: Attempt): Promise<void> {
    if (attempt.reserved !== undefined) await this.storeOf(attempt).update(attempt.key, (current) => releaseAttempt(current, this.options.policy));
  }

  async status(userId: string): Promise<LockoutStatus> {
    return statusOf(await this.stores.users.find(userId), this.nowMs());
  }

  async statuses(userIds: readonly string[]): Promise<Map<string, LockoutStatus>> {
    const states = await this.stores.users.findMany(userIds);
    const now = this.nowMs();
    return new Map(userIds.map((id) => [id, statusOf(states.get(id), now)]));
  }

  /** An operator's unlock (or password reset): the count and the locks in a row are forgotten at once. Returns the status it had. */
  async unlock(userId: string): Promise<LockoutStatus> {
    const now = this.nowMs();
    return statusOf(await this.stores.users.clear(userId), now);
  }

  private async reserve(userId: string | undefined, key: string): Promise<LoginGate> {
    if (!this.options.enabled) return { allowed: true, attempt: { userId, key, reserved: undefined } };
    const now = this.nowMs();
    let gate: LoginGate | undefined;
    const stored = await this.storeOf({ userId }).update(key, (current) => {
      const { decision, state } = reserveAttempt(current, this.options.policy, now);
      gate = decision.allowed ? undefined : { allowed: false, reason: decision.reason, retryAfter: retryAfterSeconds(decision.retryAt, now) };
      return state;
    });
    return gate ?? { allowed: true, attempt: { userId, key, reserved: stored } };
  }

  private storeOf(attempt: Pick<Attempt, 'userId'>): LoginLockoutStore {
    return attempt.userId === undefined ? this.stores.unknownNames : this.stores.users;
  }
}

function statusOf(state: LockoutState | undefined, now: number): LockoutStatus {
  const live = currentState(state, now);
  if (live === undefined) return NOT_LOCKED;
  return { failures: live.failures, lockedUntil: isLocked(live, now) ? live.lockedUntil : undefined };
}
