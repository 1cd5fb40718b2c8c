import { createHash } from 'node:crypto';
import type { ReplayCache } from '../../application/ports/replay-cache.js';
import { TemporarilyUnavailable } from '../../protocol/errors.js';
import { ExpiringKeys } from './expiring-map.js';

/**
 * The single-node ReplayCache: bounded (`capacity` live keys), expiring, O(1). A key is kept
 * as the first 53 bits of its SHA-256, a number, whatever the key's length (a DPoP key is
 * `dpop:` plus a 43-character thumbprint plus the jti): about 53 bytes per remembered use,
 * measured, where a 22-character digest string cost 77 and the keys themselves in an
 * object-valued Map about 590 (bench scenario b remembers every request's jti for 300 s).
 * Two keys share 53 bits by chance once in 2^53 / n new keys with n remembered (about one in
 * 1.8 · 10^10 with the 500 000 of a full cache): that new use is refused as a replay, never
 * the reverse.
 */
export class MemoryReplayCache implements ReplayCache {
  private readonly seen: ExpiringKeys<number>;

  constructor(capacity: number, now: () => number) {
    this.seen = new ExpiringKeys<number>(capacity, now);
  }

  async firstUse(key: string, expiresAt: number): Promise<boolean> {
    const digest = replayDigest(key);
    if (this.seen.has(digest)) return false;
    if (!this.seen.add(digest, expiresAt)) {
      throw new TemporarilyUnavailable('too many requests in flight; retry shortly');
    }
    return true;
  }
}

/** The first 53 bits of the key's SHA-256, as a whole number below 2^53 (exact in a double). */
export function replayDigest(key: string): number {
  const hash = createHash('sha256').update(key).digest();
  return hash.readUIntBE(0, 6) * 32 + (hash[6]! >> 3);
}
