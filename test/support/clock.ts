import type { Clock } from '../../src/application/ports/clock.js';

/** Real time plus an offset tests move forward: expiry is tested without sleeping. */
export class TestClock implements Clock {
  private offset = 0;
  now(): number {
    return Math.floor(Date.now() / 1000) + this.offset;
  }
  advance(seconds: number): void {
    this.offset += seconds;
  }
}
