/**
 * A set of keys with a size bound and per-key expiry (seconds), O(1) per operation
 * (amortized): keys sit in insertion order, expired ones are dropped from the oldest end as new
 * ones arrive. When full of live keys it refuses new ones rather than forget a live one
 * (forgetting a jti would allow a replay). One Map entry per key, the expiry as its value:
 * nothing but the key is allocated per key (a number key outside the small-integer range is a
 * heap number of 16 bytes, against 40 for a 22-character string).
 */
export class ExpiringKeys<K extends string | number = string> {
  private readonly expiries = new Map<K, number>();
  private lastFullSweep = -Infinity;

  constructor(
    readonly capacity: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.expiries.size;
  }

  /** True while `key` is live. */
  has(key: K): boolean {
    const expiresAt = this.expiries.get(key);
    if (expiresAt === undefined) return false;
    if (expiresAt <= this.now()) {
      this.forget(key);
      return false;
    }
    return true;
  }

  /** Adds `key` (or moves its expiry); false when full of live keys. */
  add(key: K, expiresAt: number): boolean {
    const now = this.now();
    this.dropExpiredHead(now);
    if (this.expiries.size >= this.capacity && !this.expiries.has(key)) {
      // Keys expire at different times: a long-lived head can hide expired ones behind it.
      // A full pass at most once a second keeps a truly full set from costing O(n) per call.
      if (now > this.lastFullSweep) {
        this.lastFullSweep = now;
        for (const [k, at] of this.expiries) if (at <= now) this.forget(k);
      }
      if (this.expiries.size >= this.capacity) return false;
    }
    this.expiries.delete(key);
    this.expiries.set(key, expiresAt);
    return true;
  }

  delete(key: K): void {
    this.forget(key);
  }

  /** Forgets the key added first (the oldest, by insertion order). */
  forgetOldest(): void {
    const oldest = this.expiries.keys().next();
    if (oldest.done !== true) this.forget(oldest.value);
  }

  /** Drops every expired key now, wherever it sits (O(n)): for an owner that must free room. */
  forgetExpired(): void {
    const now = this.now();
    for (const [key, expiresAt] of this.expiries) if (expiresAt <= now) this.forget(key);
  }

  /** Every removal goes through here, so a subclass can drop what it keeps beside the key. */
  protected forget(key: K): void {
    this.expiries.delete(key);
  }

  private dropExpiredHead(now: number): void {
    for (const [key, expiresAt] of this.expiries) {
      if (expiresAt > now) return;
      this.forget(key);
    }
  }
}

/** ExpiringKeys with a value per key. */
export class ExpiringMap<V> extends ExpiringKeys<string> {
  protected readonly values = new Map<string, V>();

  get(key: string): V | undefined {
    return this.has(key) ? this.values.get(key) : undefined;
  }

  /** False when the map is full of live entries. */
  set(key: string, value: V, expiresAt: number): boolean {
    if (!this.add(key, expiresAt)) return false;
    this.values.set(key, value);
    return true;
  }

  protected override forget(key: string): void {
    super.forget(key);
    this.values.delete(key);
  }
}
