import type { ReplayCache } from '../../application/ports/replay-cache.js';
import { TemporarilyUnavailable } from '../../protocol/errors.js';
import { ExpiringMap } from './expiring-map.js';

/** The single-node ReplayCache: bounded (`capacity` live entries), expiring, O(1). */
export class MemoryReplayCache implements ReplayCache {
  private readonly seen: ExpiringMap<true>;

  constructor(capacity: number, now: () => number) {
    this.seen = new ExpiringMap(capacity, now);
  }

  async firstUse(key: string, expiresAt: number): Promise<boolean> {
    if (this.seen.get(key) !== undefined) return false;
    if (!this.seen.set(key, true, expiresAt)) {
      throw new TemporarilyUnavailable('too many requests in flight; retry shortly');
    }
    return true;
  }
}
