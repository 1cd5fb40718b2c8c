import LocalStore from '@fastify/rate-limit/store/LocalStore.js';
import type { FailureBudget } from '../../application/ports/rate-limiter.js';

/**
 * The FailureBudget port over @fastify/rate-limit's LocalStore, so that failures count in the
 * windows the per-address limits use (fixed, from a key's first failure): `fail` increments,
 * `retryAfter` reads without counting (LocalStore.read). At most `capacity` keys, the least
 * recently used dropped beyond it (it then starts afresh).
 */
export class LocalFailureBudget implements FailureBudget {
  private readonly store: LocalStore;
  private readonly windowMs: number;
  private current = 0;
  private ttl = 0;
  /** One callback for every call: LocalStore answers before it returns, so nothing is allocated per check. */
  private readonly answer = (_error: Error | null, result?: { current: number; ttl: number }): void => {
    this.current = result?.current ?? 0;
    this.ttl = result?.ttl ?? 0;
  };

  constructor(
    private readonly max: number,
    windowSeconds: number,
    capacity: number,
  ) {
    this.store = new LocalStore(false, false, capacity);
    this.windowMs = windowSeconds * 1000;
  }

  retryAfter(key: string): number {
    this.store.read(key, this.answer, this.windowMs, this.max);
    return this.current >= this.max ? Math.max(1, Math.ceil(this.ttl / 1000)) : 0;
  }

  fail(key: string): void {
    this.store.incr(key, this.answer, this.windowMs, this.max);
  }
}
