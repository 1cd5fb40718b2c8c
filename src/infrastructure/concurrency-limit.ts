/**
 * Runs at most `concurrency` jobs at a time; the others wait their turn in arrival order, at
 * most `maxWaiting` of them, and at most `maxWaitingPerKey` of them with the same key (a caller's
 * IP), so that one caller cannot take the whole queue. Beyond either bound, `run` rejects with
 * the error `full()` makes, and the job never runs. A job without a key counts only overall.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly waitingByKey = new Map<string, number>();

  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
    private readonly full: () => Error,
    readonly maxWaitingPerKey = maxWaiting,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a whole number above 0');
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) throw new RangeError('maxWaiting must be a whole number');
    if (!Number.isInteger(maxWaitingPerKey) || maxWaitingPerKey < 0) throw new RangeError('maxWaitingPerKey must be a whole number');
  }

  /** Jobs running plus jobs waiting their turn (the metrics' queue length: read at scrape, not counted apart). */
  get pending(): number {
    return this.running + this.waiting.length;
  }

  async run<T>(job: () => Promise<T>, key?: string): Promise<T> {
    if (this.running < this.concurrency) this.running++;
    else if (this.waiting.length < this.maxWaiting && (key === undefined || (this.waitingByKey.get(key) ?? 0) < this.maxWaitingPerKey)) {
      if (key !== undefined) this.waitingByKey.set(key, (this.waitingByKey.get(key) ?? 0) + 1);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      // Its turn: it waits no more.
      if (key !== undefined) {
        const left = this.waitingByKey.get(key)! - 1;
        if (left === 0) this.waitingByKey.delete(key);
        else this.waitingByKey.set(key, left);
      }
    } else throw this.full();
    try {
      return await job();
    } finally {
      // The slot goes straight to the next in line, or is given back.
      const next = this.waiting.shift();
      if (next === undefined) this.running--;
      else next();
    }
  }
}
