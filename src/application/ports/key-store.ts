import type { CryptoKey, JSONWebKeySet } from 'jose';
import type { SigningAlg } from '../../domain/client.js';

export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly privateKey: CryptoKey;
}

/** The provider's own signing keys; imported once and cached, never per request. */
export interface KeyStore {
  signingKey(alg: SigningAlg): SigningKey;
  /** Public key for a kid we issued, or undefined. */
  verificationKey(kid: string): { alg: SigningAlg; key: CryptoKey } | undefined;
  /** Public parts only, each with kid, alg and use. */
  jwks(): JSONWebKeySet;
}
