import { DPOP_FUTURE_SKEW, DpopKeyCache, verifyDpopProof, type DpopProof } from '../../protocol/dpop.js';
import { InvalidDpopProof, UseDpopNonce } from '../../protocol/errors.js';
import type { Clock } from '../ports/clock.js';
import type { DpopNonces } from '../ports/dpop-nonces.js';
import { madeBeforeStart, mustOutliveProcess } from '../../protocol/replay-window.js';
import type { ReplayCache, ReplayOwner } from '../ports/replay-cache.js';

export interface DpopVerifierOptions {
  /** Seconds a proof is accepted after its iat. */
  readonly proofMaxAge: number;
}

/**
 * The stateful half of DPoP proof checking (RFC 9449 §4.3 (9) nonce, (12) jti replay);
 * src/protocol/dpop.ts does the rest. One instance serves the token, PAR and resource endpoints.
 * `verify` remembers nothing; the endpoint calls `remember` once it knows the caller is entitled
 * (a confidential client once authenticated; a public client once its code or refresh token
 * checked out, or its pushed request was stored; at a resource, the client of the access token),
 * so an unauthenticated caller cannot fill the replay cache, and a client fills only its own
 * share of it.
 */
export class DpopVerifier {
  private readonly keys = new DpopKeyCache();

  constructor(
    private readonly replay: ReplayCache,
    /** Undefined when the server does not require nonces. */
    private readonly nonces: DpopNonces | undefined,
    private readonly clock: Clock,
    private readonly options: DpopVerifierOptions,
  ) {}

  /**
   * The proof in the DPoP header, verified but not yet remembered; undefined when the request
   * carries none.
   * @param header the raw header value(s) as the HTTP layer received them
   */
  async verify(header: string | string[] | undefined, request: { method: string; url: string; accessToken?: string | undefined }): Promise<DpopProof | undefined> {
    if (header === undefined) return undefined;
    // RFC 9449 §4.3 (1): exactly one DPoP header.
    if (Array.isArray(header) || header.includes(',')) throw new InvalidDpopProof('exactly one DPoP header is allowed');
    const now = this.clock.now();
    const proof = await verifyDpopProof(header, { ...request, now, maxAge: this.options.proofMaxAge }, this.keys);
    // RFC 9449 §8 and §9: the proof must carry a nonce this server provided.
    if (this.nonces !== undefined && (proof.nonce === undefined || !this.nonces.isValid(proof.nonce))) {
      throw new UseDpopNonce(
        proof.nonce === undefined ? 'the DPoP proof must include the server-provided nonce' : 'the DPoP proof nonce is invalid or expired',
        this.nonces.current(),
      );
    }
    // RFC 9449 §11.1: a proof the previous process may have accepted (its iat at or before the
    // second this one started) may have been used already; nonces survive restarts, so this holds
    // with nonces too. One with an iat still in the future is persisted by `remember`
    // (src/protocol/replay-window.ts).
    if (madeBeforeStart(proof.iat, this.replay.remembersSince())) {
      if (this.nonces !== undefined) throw new UseDpopNonce('the DPoP proof was made before the server started: send a new proof with this nonce', this.nonces.current());
      throw new InvalidDpopProof('the DPoP proof was made before the server started: send a new proof');
    }
    return proof;
  }

  /**
   * RFC 9449 §11.1: a proof is accepted once; its jti is remembered, in `owner`'s share, until
   * the proof could no longer be accepted. Call after the caller was authenticated.
   */
  async remember(proof: DpopProof, owner: ReplayOwner): Promise<void> {
    const now = this.clock.now();
    const expiresAt = Math.max(proof.iat, now) + this.options.proofMaxAge + DPOP_FUTURE_SKEW;
    if (!(await this.replay.firstUse(owner, `dpop:${proof.jkt}:${proof.jti}`, expiresAt, mustOutliveProcess(proof.iat, now) ? proof.iat : undefined))) {
      throw new InvalidDpopProof('the DPoP proof jti was already used');
    }
  }

  /** The nonce to send in DPoP-Nonce on every answer to a DPoP request, if nonces are required. */
  currentNonce(): string | undefined {
    return this.nonces?.current();
  }
}
