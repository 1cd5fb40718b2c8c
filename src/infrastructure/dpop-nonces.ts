import { createHmac, randomBytes } from 'node:crypto';
import type { DpopNonces } from '../application/ports/dpop-nonces.js';

/**
 * DPoP nonces derived from time: HMAC(secret, period number). Nothing to store, and several
 * nodes sharing the secret agree on the nonce. The current and the previous period's nonces
 * are valid, so a nonce lives between one and two periods.
 */
export class HmacDpopNonces implements DpopNonces {
  /** The nonces of the last two periods computed, so a check costs no HMAC. */
  private readonly cached = new Map<number, string>();

  constructor(
    private readonly now: () => number,
    private readonly periodSeconds: number,
    private readonly secret: Buffer = randomBytes(32),
  ) {}

  current(): string {
    return this.nonceFor(Math.floor(this.now() / this.periodSeconds));
  }

  /** A nonce is public (it travels in DPoP-Nonce headers): a plain comparison is enough. */
  isValid(nonce: string): boolean {
    const period = Math.floor(this.now() / this.periodSeconds);
    return nonce === this.nonceFor(period) || nonce === this.nonceFor(period - 1);
  }

  private nonceFor(period: number): string {
    let nonce = this.cached.get(period);
    if (nonce === undefined) {
      nonce = createHmac('sha256', this.secret).update(String(period)).digest('base64url');
      this.cached.set(period, nonce);
      for (const old of this.cached.keys()) if (old < period - 1) this.cached.delete(old);
    }
    return nonce;
  }
}
