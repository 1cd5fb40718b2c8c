import { createHash } from 'node:crypto';
import type { ReplayCache } from '../../application/ports/replay-cache.js';
import { TemporarilyUnavailable } from '../../protocol/errors.js';
import { ExpiringKeys } from './expiring-map.js';

/**
 * The single-node ReplayCache: bounded (`capacity` live keys), expiring, O(1). Keys are kept as
 * 128-bit SHA-256 prefixes (22 characters) whatever their length: a DPoP key is `dpop:` plus a
 * 43-character thumbprint plus the jti. About 80 bytes per remembered use, measured, where the
 * keys themselves in an object-valued Map cost about 590 (bench scenario b remembers every
 * request's jti for 300 s). protocol/random.ts's sha256() gives all 256 bits, which would
 * double the string; two different keys share a 128-bit prefix once in 2^64 pairs.
 */
export class MemoryReplayCache implements ReplayCache {
  private readonly seen: ExpiringKeys;

  constructor(capacity: number, now: () => number) {
    this.seen = new ExpiringKeys(capacity, now);
  }

  async firstUse(key: string, expiresAt: number): Promise<boolean> {
    const digest = createHash('sha256').update(key).digest().toString('base64url', 0, 16);
    if (this.seen.has(digest)) return false;
    if (!this.seen.add(digest, expiresAt)) {
      throw new TemporarilyUnavailable('too many requests in flight; retry shortly');
    }
    return true;
  }
}
