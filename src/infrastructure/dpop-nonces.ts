import { createHmac, randomBytes } from 'node:crypto';
import type { DpopNonces } from '../application/ports/dpop-nonces.js';
import { constantTimeEqual } from '../protocol/random.js';

/**
 * DPoP nonces derived from time: HMAC(secret, period number). Nothing to store, and several
 * nodes sharing the secret agree on the nonce. The current and the previous period's nonces
 * are valid, so a nonce lives between one and two periods.
 */
export class HmacDpopNonces implements DpopNonces {
  private cached: { period: number; nonce: string } | undefined;

  constructor(
    private readonly now: () => number,
    private readonly periodSeconds: number,
    private readonly secret: Buffer = randomBytes(32),
  ) {}

  current(): string {
    return this.nonceFor(Math.floor(this.now() / this.periodSeconds));
  }

  isValid(nonce: string): boolean {
    const period = Math.floor(this.now() / this.periodSeconds);
    return constantTimeEqual(nonce, this.nonceFor(period)) || constantTimeEqual(nonce, this.nonceFor(period - 1));
  }

  private nonceFor(period: number): string {
    if (this.cached?.period === period) return this.cached.nonce;
    const nonce = createHmac('sha256', this.secret).update(String(period)).digest('base64url');
    if (this.cached === undefined || period > this.cached.period) this.cached = { period, nonce };
    return nonce;
  }
}
