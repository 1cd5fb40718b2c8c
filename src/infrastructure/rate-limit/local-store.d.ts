/**
 * @fastify/rate-limit's in-memory store (store/LocalStore.js), which its package ships without a
 * declaration: the per-client limits and the failed-authentication budget count in the same
 * store the per-address limits do. `incr` and `read` answer through their callback before they
 * return (an LRU map lookup, and for `incr` an increment).
 */
declare module '@fastify/rate-limit/store/LocalStore.js' {
  class LocalStore {
    /** @param cache the most keys held (least recently used dropped beyond it; default 5000) */
    constructor(continueExceeding: boolean, exponentialBackoff: boolean, cache?: number);
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number, max: number): void;
    /** The count without counting: `{ current: 0, ttl: 0 }` for a key unseen or whose window ended. */
    read(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number, max: number): void;
  }
  export = LocalStore;
}
