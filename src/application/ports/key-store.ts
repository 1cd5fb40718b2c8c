import type { CryptoKey, JSONWebKeySet } from 'jose';
import type { SigningAlg } from '../../domain/client.js';
import type { KeyTimeline, RotationPolicy } from '../../domain/signing-key.js';

export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly privateKey: CryptoKey;
}

/**
 * The provider's own signing keys; imported once per load and cached, never per request. What
 * signs and what is published follow the keys' lifecycle (src/domain/signing-key.ts) at the
 * time of the call.
 */
export interface KeyStore {
  /** The active key of `alg`. */
  signingKey(alg: SigningAlg): SigningKey;
  /** Public key for a kid we issued and still publish (prepublished, active or retired), or undefined. */
  verificationKey(kid: string): { alg: SigningAlg; key: CryptoKey } | undefined;
  /**
   * Public parts only, each with kid, alg and use: the same object until the published set
   * changes (the JWKS document is rebuilt only then).
   */
  jwks(): JSONWebKeySet;
}

/** What an on-demand rotation did to one algorithm. */
export interface KeyRotation {
  readonly alg: SigningAlg;
  /** The key that stopped signing (it stays published until what it signed has expired). */
  readonly retired: string | undefined;
  /** The key signing from `activatesAt` on. */
  readonly active: string;
  readonly activatesAt: number;
  /** The prepublished successor. */
  readonly next: string | undefined;
}

/** The stored keys and their schedule, for the control plane. */
export interface SigningKeyLifecycle {
  readonly policy: RotationPolicy;
  /** Every key not yet removed, with the dates that follow from its successor. */
  list(): Promise<KeyTimeline[]>;
  /**
   * Activates the prepublished key of each algorithm at `now` and prepublishes a successor;
   * throws RotationRefused (domain/signing-key.ts) within MIN_ROTATION_GAP_SECONDS of the last
   * activation unless forced, or at MAX_PUBLISHED_KEYS_PER_ALG.
   */
  rotate(algs: readonly SigningAlg[], now: number, force?: boolean): Promise<KeyRotation[]>;
}
