import { createHmac, randomBytes } from 'node:crypto';
import type { DpopNonces } from '../application/ports/dpop-nonces.js';

/** The key of the nonces of the period starting at `time` (seconds): a rotating server secret. */
export type NonceSecretAt = (time: number) => Buffer;

/**
 * DPoP nonces derived from time: HMAC(secret, period number). Nothing to store per nonce, and
 * processes sharing the secret (src/infrastructure/rotating-secret.ts, kept in the database)
 * agree on the nonce, before and after a restart. The current and the previous period's nonces
 * are valid, so a nonce lives between one and two periods; each period's nonce is keyed by the
 * secret of the epoch the period starts in, so both stay valid across a secret's rotation.
 */
export class HmacDpopNonces implements DpopNonces {
  /** The nonces of the last two periods computed, so a check costs no HMAC. */
  private readonly cached = new Map<number, string>();
  private readonly secretAt: NonceSecretAt;

  constructor(
    private readonly now: () => number,
    private readonly periodSeconds: number,
    secret: Buffer | NonceSecretAt = randomBytes(32),
  ) {
    this.secretAt = Buffer.isBuffer(secret) ? () => secret : secret;
  }

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
      nonce = createHmac('sha256', this.secretAt(period * this.periodSeconds)).update(String(period)).digest('base64url');
      this.cached.set(period, nonce);
      for (const old of this.cached.keys()) if (old < period - 1) this.cached.delete(old);
    }
    return nonce;
  }
}
