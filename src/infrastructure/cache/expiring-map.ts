/**
 * A Map with a size bound and per-entry expiry, O(1) per operation (amortized): entries sit in
 * insertion order, expired ones are dropped from the oldest end as new ones arrive. When full
 * of live entries it refuses new ones rather than forget a live one (forgetting a jti would
 * allow a replay).
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private lastFullSweep = -Infinity;

  constructor(
    readonly capacity: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** False when the map is full of live entries. */
  set(key: string, value: V, expiresAt: number): boolean {
    const now = this.now();
    this.dropExpiredHead(now);
    if (this.entries.size >= this.capacity && !this.entries.has(key)) {
      // Entries expire at different times: a long-lived head can hide expired ones behind it.
      // A full pass at most once a second keeps a truly full map from costing O(n) per call.
      if (now > this.lastFullSweep) {
        this.lastFullSweep = now;
        for (const [k, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(k);
      }
      if (this.entries.size >= this.capacity) return false;
    }
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt });
    return true;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  private dropExpiredHead(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.entries.delete(key);
    }
  }
}
