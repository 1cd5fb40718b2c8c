import {
  currentState,
  releaseAttempt,
  reserveAttempt,
  retryAfterSeconds,
  settleFailure,
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

/** Whether a login attempt of an existing user may have its password checked. */
export type LoginGate =
  | { readonly allowed: true; readonly attempt: Attempt }
  | { readonly allowed: false; readonly reason: LockoutReason; /** Whole seconds (Retry-After). */ readonly retryAfter: number };

/** An allowed attempt, counted as a failure until it is settled (failed, succeeded or abandoned). */
export interface Attempt {
  readonly userId: string;
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

/**
 * Progressive lockout of accounts (src/domain/lockout.ts) over their stored state: the login asks
 * before checking a password (a refused attempt costs no hash), then settles the attempt; the
 * control plane reads and clears it. `nowMs` is the injected clock in milliseconds.
 */
export class AccountLockout {
  constructor(
    private readonly store: LoginLockoutStore,
    private readonly options: AccountLockoutOptions,
    private readonly nowMs: () => number,
  ) {}

  /** Before the password is checked: refused during a wait or a lock, else counted until settled. */
  async begin(userId: string): Promise<LoginGate> {
    if (!this.options.enabled) return { allowed: true, attempt: { userId, reserved: undefined } };
    const now = this.nowMs();
    let gate: LoginGate | undefined;
    const stored = await this.store.update(userId, (current) => {
      const { decision, state } = reserveAttempt(current, this.options.policy, now);
      gate = decision.allowed ? undefined : { allowed: false, reason: decision.reason, retryAfter: retryAfterSeconds(decision.retryAt, now) };
      return state;
    });
    return gate ?? { allowed: true, attempt: { userId, reserved: stored } };
  }

  /** The password was wrong. `locked` when this very failure started a lock (audit user.locked). */
  async failed(attempt: Attempt): Promise<{ readonly locked: { readonly failures: number; readonly until: number } | undefined }> {
    if (attempt.reserved === undefined) return { locked: undefined };
    const settled = await this.store.update(attempt.userId, (current) => settleFailure(current, this.options.policy, this.nowMs()));
    const startedLock = attempt.reserved.lockedUntil !== undefined && settled?.lockedUntil !== undefined;
    return { locked: startedLock ? { failures: settled.failures, until: settled.lockedUntil! } : undefined };
  }

  /** The password was right: the count is forgotten. */
  async succeeded(attempt: Attempt): Promise<void> {
    if (attempt.reserved !== undefined) await this.store.clear(attempt.userId);
  }

  /** The password could not be checked (the hashing queue was full): the attempt does not count. */
  async abandoned(attempt: Attempt): Promise<void> {
    if (attempt.reserved !== undefined) await this.store.update(attempt.userId, (current) => releaseAttempt(current, this.options.policy));
  }

  async status(userId: string): Promise<LockoutStatus> {
    return this.statusOf(await this.store.find(userId), this.nowMs());
  }

  async statuses(userIds: readonly string[]): Promise<Map<string, LockoutStatus>> {
    const states = await this.store.findMany(userIds);
    const now = this.nowMs();
    return new Map(userIds.map((id) => [id, this.statusOf(states.get(id), now)]));
  }

  /** An operator's unlock: the count is forgotten at once. Returns the status it had. */
  async unlock(userId: string): Promise<LockoutStatus> {
    const now = this.nowMs();
    return this.statusOf(await this.store.clear(userId), now);
  }

  private statusOf(state: LockoutState | undefined, now: number): LockoutStatus {
    const live = currentState(state, this.options.policy, now);
    return live === undefined ? NOT_LOCKED : { failures: live.failures, lockedUntil: live.lockedUntil };
  }
}
