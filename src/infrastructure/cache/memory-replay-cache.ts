import { createHash } from 'node:crypto';
import type { ReplayCache, ReplayOwner } from '../../application/ports/replay-cache.js';
import { TemporarilyUnavailable } from '../../protocol/errors.js';
import { ExpiringKeys } from './expiring-map.js';

export interface ReplayCacheLimits {
  /** Live keys overall, all clients together: the memory bound (about 53 bytes per key). */
  readonly capacity: number;
  /** Live keys of one confidential client: what one client may use of `capacity`. */
  readonly perClient: number;
  /** Live keys of one public client, which anyone can act as. */
  readonly perPublicClient: number;
}

/**
 * Where the memory cache keeps what the next process must know (src/protocol/replay-window.ts):
 * the latest anchor of a value accepted while its anchor was in the future. Synchronous, so it
 * is stored before the request that raised it is answered.
 */
export interface ReplayWatermark {
  /** The latest anchor written, -Infinity when none. */
  read(): number;
  /** Stores `anchor` if it is later than the one stored. */
  raise(anchor: number): void;
}

/** Seconds between two sweeps of every client's expired keys when the overall bound is reached. */
const FULL_SWEEP_INTERVAL = 1;

/**
 * The single-node ReplayCache: bounded, expiring, O(1), one partition per owning client, each
 * with its own bound (`perClient`, `perPublicClient`) under an overall one (`capacity`), so that
 * a client at its share, or a flood through a public client, cannot take what the others need.
 * A key is kept as the first 53 bits of its SHA-256, a number, whatever the key's length (a DPoP
 * key is `dpop:` plus a 43-character thumbprint plus the jti): about 53 bytes per remembered use,
 * measured, where a 22-character digest string cost 77 and the keys themselves in an
 * object-valued Map about 590 (bench scenario b remembers every request's jti for 300 s).
 * Two keys share 53 bits by chance once in 2^53 / n new keys with n remembered (about one in
 * 9 · 10^9 with the 1 000 000 of a full cache): that new use is refused as a replay, never the
 * reverse.
 */
export class MemoryReplayCache implements ReplayCache {
  private readonly partitions = new Map<string, OwnedKeys>();
  /** Live keys in all partitions (expired ones count until a partition drops them). */
  private total = 0;
  private lastFullSweep = -Infinity;
  /** Refused: anchors at or before it (the start second, or the previous process's watermark). */
  private readonly since: number;
  /** The latest anchor written to the watermark, so that only a later one costs a write. */
  private highestWritten: number;

  constructor(
    private readonly limits: ReplayCacheLimits,
    private readonly now: () => number,
    /** The whole second remembering began: this process's start. */
    startSecond: number,
    /** Keeps the watermark for the next process; without one, `outlivesFrom` is not honoured. */
    private readonly watermark?: ReplayWatermark,
  ) {
    this.highestWritten = watermark?.read() ?? -Infinity;
    // What the previous process accepted with an anchor after this start is refused with the rest.
    this.since = Math.max(startSecond, this.highestWritten);
  }

  /** Keys held in all partitions, expired ones until dropped (trusty_replay_cache_fill_ratio). */
  get size(): number {
    return this.total;
  }

  get capacity(): number {
    return this.limits.capacity;
  }

  remembersSince(): number {
    return this.since;
  }

  async firstUse(owner: ReplayOwner, key: string, expiresAt: number, outlivesFrom?: number): Promise<boolean> {
    const digest = replayDigest(key);
    const keys = this.partition(owner);
    if (keys.has(digest)) return false;
    if (this.total >= this.limits.capacity) this.sweepAll();
    if (this.total >= this.limits.capacity) throw new TemporarilyUnavailable('too many requests in flight; retry shortly');
    if (!keys.add(digest, expiresAt)) {
      if (owner.forgetOldestWhenFull !== true) throw new TemporarilyUnavailable('too many requests in flight for this client; retry shortly');
      keys.forgetOldest();
      keys.add(digest, expiresAt);
    }
    this.total += 1;
    if (outlivesFrom !== undefined && outlivesFrom > this.highestWritten && this.watermark !== undefined) {
      try {
        this.watermark.raise(outlivesFrom);
      } catch (error) {
        keys.delete(digest); // not remembered: the request fails, the value stays unused
        throw error;
      }
      this.highestWritten = outlivesFrom;
    }
    return true;
  }

  private partition(owner: ReplayOwner): OwnedKeys {
    let keys = this.partitions.get(owner.clientId);
    if (keys === undefined) {
      keys = new OwnedKeys(owner.isPublic ? this.limits.perPublicClient : this.limits.perClient, this.now, this);
      this.partitions.set(owner.clientId, keys);
    }
    return keys;
  }


  /** Called by a partition for each key it drops. */
  forgotten(): void {
    this.total -= 1;
  }

  /** Drops expired keys of every client (quiet ones keep theirs otherwise), at most once a second. */
  private sweepAll(): void {
    const now = this.now();
    if (now - this.lastFullSweep < FULL_SWEEP_INTERVAL) return;
    this.lastFullSweep = now;
    for (const [clientId, keys] of this.partitions) {
      keys.forgetExpired();
      if (keys.size === 0) this.partitions.delete(clientId);
    }
  }
}

/** One client's keys; tells the cache of each one dropped, so the overall count stays exact. */
class OwnedKeys extends ExpiringKeys<number> {
  constructor(
    capacity: number,
    now: () => number,
    private readonly cache: MemoryReplayCache,
  ) {
    super(capacity, now);
  }

  protected override forget(key: number): void {
    const before = this.size;
    super.forget(key);
    if (this.size < before) this.cache.forgotten();
  }
}

/** The first 53 bits of the key's SHA-256, as a whole number below 2^53 (exact in a double). */
export function replayDigest(key: string): number {
  const hash = createHash('sha256').update(key).digest();
  return hash.readUIntBE(0, 6) * 32 + (hash[6]! >> 3);
}
