import LocalStore from '@fastify/rate-limit/store/LocalStore.js';
import type { RateLimiter } from '../../application/ports/rate-limiter.js';

/** What a @fastify/rate-limit store offers (LocalStore, RedisStore, a custom store). */
export interface CountingStore {
  incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number, max: number): void;
}

/**
 * The RateLimiter port over a @fastify/rate-limit store, so that the per-client limits count
 * the way the per-address ones (the plugin, src/http/plugins/rate-limit.ts) do: a fixed window
 * from a key's first request, `max` requests in it. A store that answers before `incr` returns
 * (LocalStore) gives a number, with nothing allocated but the callback; one that answers later
 * (RedisStore) gives a promise.
 */
export class StoreRateLimiter implements RateLimiter {
  private readonly windowMs: number;

  constructor(
    private readonly store: CountingStore,
    private readonly max: number,
    windowSeconds: number,
  ) {
    this.windowMs = windowSeconds * 1000;
  }

  hit(key: string): number | Promise<number> {
    let answered = false;
    let seconds = 0;
    let failure: Error | null = null;
    let later: { resolve(seconds: number): void; reject(error: Error): void } | undefined;
    this.store.incr(
      key,
      (error, result) => {
        const wait = result === undefined ? 0 : this.secondsLeft(result.current, result.ttl);
        if (later === undefined) {
          answered = true;
          failure = error;
          seconds = wait;
        } else if (error !== null) later.reject(error);
        else later.resolve(wait);
      },
      this.windowMs,
      this.max,
    );
    if (answered) {
      if (failure !== null) throw failure;
      return seconds;
    }
    return new Promise<number>((resolve, reject) => {
      later = { resolve, reject };
    });
  }

  /** 0 within the budget, else the seconds left in the window (Retry-After: at least 1). */
  private secondsLeft(current: number, ttlMs: number): number {
    return current > this.max ? Math.max(1, Math.ceil(ttlMs / 1000)) : 0;
  }
}

/**
 * A limiter in this process's memory (@fastify/rate-limit's LocalStore): at most `capacity`
 * keys, the least recently used dropped beyond it (it then starts a fresh window).
 */
export function inMemoryRateLimiter(max: number, windowSeconds: number, capacity: number): StoreRateLimiter {
  return new StoreRateLimiter(new LocalStore(false, false, capacity), max, windowSeconds);
}
