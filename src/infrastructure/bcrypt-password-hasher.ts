import bcrypt from 'bcrypt';
import type { PasswordHasher } from '../application/ports/password-hasher.js';
import { TemporarilyUnavailable } from '../protocol/errors.js';
import { ConcurrencyLimit } from './concurrency-limit.js';

/**
 * Logins that may wait for a free hashing thread; beyond, a login is refused with 503 rather
 * than queued (at cost 12, one thread checks about 4 passwords a second on the bench machine).
 */
export const MAX_WAITING_HASHES = 64;

/**
 * Of which from one key (the caller's IP at the login form): one unauthenticated caller cannot
 * hold the whole queue and lock every user out. Eight waiting, plus those running, is more than
 * a household or an office behind one address signs in at once; beyond, the same 503.
 */
export const MAX_WAITING_HASHES_PER_KEY = 8;

/**
 * bcrypt on libuv's thread pool, `threads` hashes at a time (thread-pool.ts: one pool thread
 * is kept for signatures), the others waiting their turn.
 */
export class BcryptPasswordHasher implements PasswordHasher {
  private readonly limit: ConcurrencyLimit;

  constructor(
    private readonly cost: number,
    threads: number,
    maxWaiting = MAX_WAITING_HASHES,
    maxWaitingPerKey = MAX_WAITING_HASHES_PER_KEY,
  ) {
    this.limit = new ConcurrencyLimit(threads, maxWaiting, () => new TemporarilyUnavailable('too many sign-ins at once; retry shortly'), maxWaitingPerKey);
  }

  /** Hashes running or waiting for a thread now (trusty_password_hash_queue, docs/metrics.md). */
  queueLength(): number {
    return this.limit.pending;
  }

  hash(password: string): Promise<string> {
    return this.limit.run(() => bcrypt.hash(password, this.cost));
  }

  verify(password: string, hash: string, key?: string): Promise<boolean> {
    return this.limit.run(() => bcrypt.compare(password, hash), key);
  }
}
