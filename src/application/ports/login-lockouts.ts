import type { LockoutState } from '../../domain/lockout.js';

/**
 * Failed logins in a row (src/domain/lockout.ts), one entry per key that has any. Two stores
 * implement it: existing users' states by user id, in the database (read fresh at every login
 * attempt, never cached: the CLI — another process — unlocks a running server's accounts, and a
 * restart keeps a lock); and made-up usernames' states by the username typed, in memory only,
 * bounded, the names kept hashed (nothing an unauthenticated caller invents is ever stored).
 */
export interface LoginLockoutStore {
  /** One key's state (one indexed read). */
  find(key: string): Promise<LockoutState | undefined>;
  /** The states of these keys (a page of the control plane's list: at most a few hundred). */
  findMany(keys: readonly string[]): Promise<Map<string, LockoutState>>;
  /**
   * Reads the key's state and stores what `change` makes of it (undefined deletes it), at once
   * (one write transaction for the database), so concurrent attempts (of this process or another)
   * are applied one after the other. Nothing is written when `change` returns the very state it
   * was given. Returns the state now stored.
   */
  update(key: string, change: (current: LockoutState | undefined) => LockoutState | undefined): Promise<LockoutState | undefined>;
  /** Deletes the key's state; returns what it was. */
  clear(key: string): Promise<LockoutState | undefined>;
}
