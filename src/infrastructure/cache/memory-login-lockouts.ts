import { createHmac } from 'node:crypto';
import type { LoginLockoutStore } from '../../application/ports/login-lockouts.js';
import type { LockoutState } from '../../domain/lockout.js';

/**
 * Made-up usernames' failed logins (docs/lockout.md), so that a name that exists and one that
 * does not are throttled and locked alike: in this process's memory only, never the database.
 * Anyone can make up names, so the store is bounded: at `capacity` entries the least recently
 * used one is forgotten (a Map keeps insertion order; each use moves its entry to the end). That
 * only ever forgets a made-up name's count — real users' counts are in the database.
 *
 * Keys are HMAC-SHA256 of the name under a key of this process (passed in, random at start), so
 * no name typed into the form is kept, and a memory dump cannot be matched against a list of names.
 * About 200 bytes an entry: 2 MB at 10 000.
 */
export class MemoryLoginLockoutStore implements LoginLockoutStore {
  private readonly states = new Map<string, LockoutState>();

  constructor(
    readonly capacity: number,
    private readonly key: Uint8Array,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  get size(): number {
    return this.states.size;
  }

  async find(name: string): Promise<LockoutState | undefined> {
    return this.states.get(this.digest(name));
  }

  async findMany(names: readonly string[]): Promise<Map<string, LockoutState>> {
    const found = new Map<string, LockoutState>();
    for (const name of names) {
      const state = this.states.get(this.digest(name));
      if (state !== undefined) found.set(name, state);
    }
    return found;
  }

  /** Synchronous inside: concurrent attempts on one name are applied one after the other. */
  async update(name: string, change: (current: LockoutState | undefined) => LockoutState | undefined): Promise<LockoutState | undefined> {
    const digest = this.digest(name);
    const current = this.states.get(digest);
    const next = change(current);
    this.states.delete(digest);
    if (next !== undefined) {
      this.states.set(digest, next); // the most recently used: at the end
      if (this.states.size > this.capacity) this.states.delete(this.states.keys().next().value!);
    }
    return next;
  }

  async clear(name: string): Promise<LockoutState | undefined> {
    const digest = this.digest(name);
    const state = this.states.get(digest);
    this.states.delete(digest);
    return state;
  }

  /** The digests held (for tests: never a name). */
  digests(): string[] {
    return [...this.states.keys()];
  }

  private digest(name: string): string {
    return createHmac('sha256', this.key).update(name, 'utf8').digest('base64url');
  }
}
