import type { LockoutState } from '../../domain/lockout.js';

/**
 * Each account's failed logins in a row (src/domain/lockout.ts), one entry per user that has any.
 * Read fresh at every login attempt, never cached: the CLI (another process) unlocks a running
 * server's accounts, and a restart keeps a lock. Nothing is ever kept for an unknown username.
 */
export interface LoginLockoutStore {
  /** One user's state (one indexed read). */
  find(userId: string): Promise<LockoutState | undefined>;
  /** The states of these users (a page of the control plane's list: at most a few hundred ids). */
  findMany(userIds: readonly string[]): Promise<Map<string, LockoutState>>;
  /**
   * Reads the user's state and stores what `change` makes of it (undefined deletes it), in one
   * write transaction, so concurrent attempts (of this process or another) are applied one after
   * the other. Nothing is written when `change` returns the very state it was given. Returns the
   * state now stored.
   */
  update(userId: string, change: (current: LockoutState | undefined) => LockoutState | undefined): Promise<LockoutState | undefined>;
  /** Deletes the user's state; returns what it was. */
  clear(userId: string): Promise<LockoutState | undefined>;
}
