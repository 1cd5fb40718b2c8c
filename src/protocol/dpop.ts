import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, errors as joseErrors, jwtVerify, type CryptoKey, type JWK, type JWSHeaderParameters } from 'jose';
import { InvalidDpopProof } from './errors.js';
import { hasPrivateMembers } from './jwk.js';

/**
 * DPoP proof validation, RFC 9449 §4.3 — everything but the checks that need state
 * (jti replay, server nonces), which src/application/services/dpop-verifier.ts adds.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 */

/** Asymmetric algorithms accepted for proofs (discovery: dpop_signing_alg_values_supported). */
export const DPOP_SIGNING_ALGS = ['ES256', 'PS256', 'EdDSA'] as const;

/** A proof is accepted at most this long after its iat (RFC 9449 §11.1: a short window). */
export const DPOP_PROOF_MAX_AGE = 60;
/** Clock skew allowed for an iat in the future. */
export const DPOP_FUTURE_SKEW = 10;
const MAX_PROOF_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;
const MAX_NONCE_LENGTH = 256;

export interface DpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's public key: what tokens are bound to (cnf.jkt). */
  readonly jkt: string;
  readonly jti: string;
  readonly iat: number;
  readonly nonce: string | undefined;
}

export interface DpopRequest {
  /** The HTTP method of the request carrying the proof. */
  readonly method: string;
  /** The endpoint's URL as the server publishes it. */
  readonly url: string;
  /** Present on resource requests: the proof must carry its hash in ath. */
  readonly accessToken?: string | undefined;
  /** Seconds since the epoch. */
  readonly now: number;
  readonly maxAge?: number;
}

/** Proof keys remembered at most (about 1 KB each; a proof is at most 8 KiB, so 8 MB at worst). */
export const DPOP_KEY_CACHE_SIZE = 1000;

/**
 * Proof keys already imported, with their thumbprints, by the exact jwk header and alg that
 * produced them: a client signs many proofs with one key, and importing it and hashing its
 * thumbprint are two WebCrypto jobs per request that the same input always answers alike.
 * Each proof's signature is still checked. The oldest entry goes first beyond `capacity`.
 */
export class DpopKeyCache {
  private readonly entries = new Map<string, { key: CryptoKey; jkt: string }>();

  constructor(readonly capacity = DPOP_KEY_CACHE_SIZE) {}

  get size(): number {
    return this.entries.size;
  }

  async resolve(header: JWSHeaderParameters): Promise<{ key: CryptoKey; jkt: string }> {
    const id = `${String(header.alg)}\n${JSON.stringify(header.jwk)}`;
    let entry = this.entries.get(id);
    if (entry === undefined) {
      // jose checks the jwk (an object, a public key, use and alg consistent with the header).
      entry = { key: await EmbeddedJWK(header), jkt: await calculateJwkThumbprint(header.jwk!, 'sha256') };
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(id, entry);
    }
    return entry;
  }
}

export async function verifyDpopProof(proof: string, request: DpopRequest, keys: DpopKeyCache = new DpopKeyCache(1)): Promise<DpopProof> {
  const invalid = (description: string) => new InvalidDpopProof(description);
  if (proof.length > MAX_PROOF_LENGTH) throw invalid('the DPoP proof is too long');
  let header: { typ?: unknown; alg?: unknown; jwk?: JWK };
  let payload: Record<string, unknown>;
  let jkt = '';
  try {
    ({ protectedHeader: header, payload } = await jwtVerify(proof, async (h) => {
      // RFC 9449 §4.3 (4): the jwk header must not contain a private key.
      if (h.jwk !== undefined && hasPrivateMembers(h.jwk)) throw invalid('the DPoP proof jwk must be a public key');
      const resolved = await keys.resolve(h);
      jkt = resolved.jkt;
      return resolved.key;
    }, {
      typ: 'dpop+jwt', // §4.3 (4)
      algorithms: [...DPOP_SIGNING_ALGS], // §4.3 (5): asymmetric and supported
      currentDate: new Date(request.now * 1000),
    }));
  } catch (error) {
    if (error instanceof InvalidDpopProof) throw error;
    if (error instanceof joseErrors.JOSEAlgNotAllowed) throw invalid(`the DPoP proof alg must be one of ${DPOP_SIGNING_ALGS.join(', ')}`);
    if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'typ') throw invalid('the DPoP proof typ must be dpop+jwt');
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) throw invalid('the DPoP proof signature is invalid');
    throw invalid('the DPoP proof is not a valid signed JWT with a jwk header');
  }
  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) throw invalid('the DPoP proof jti is missing or invalid');
  // §4.3 (7): htm matches the method of the request.
  if (htm !== request.method) throw invalid('the DPoP proof htm does not match the request method');
  // §4.3 (8): htu matches the request URI, ignoring query and fragment.
  const expected = normalizeHtu(request.url);
  if (expected === undefined || typeof htu !== 'string' || normalizeHtu(htu) !== expected) throw invalid('the DPoP proof htu does not match the request URL');
  // §4.3 (11) and §11.1: a short acceptance window around iat.
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('the DPoP proof iat is missing');
  if (iat > request.now + DPOP_FUTURE_SKEW) throw invalid('the DPoP proof iat is in the future');
  if (iat < request.now - (request.maxAge ?? DPOP_PROOF_MAX_AGE)) throw invalid('the DPoP proof is too old (iat)');
  if (nonce !== undefined && (typeof nonce !== 'string' || nonce.length > MAX_NONCE_LENGTH)) throw invalid('the DPoP proof nonce is invalid');
  // §4.3 (12) and §7: resource requests prove possession for this very access token.
  if (request.accessToken !== undefined) {
    if (typeof ath !== 'string') throw invalid('the DPoP proof ath is missing');
    if (ath !== accessTokenHash(request.accessToken)) throw invalid('the DPoP proof ath does not match the access token');
  }
  return { jkt, jti, iat, nonce };
}

/** RFC 9449 §4.2: ath = base64url(SHA-256(ASCII(access token))). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/** RFC 9449 §4.3 (8), RFC 3986 §6.2.2–6.2.3: compare without query and fragment, after normalization. */
export function normalizeHtu(value: string): string | undefined {
  try {
    const url = new URL(value);
    url.search = '';
    url.hash = '';
    return url.href;
  } catch {
    return undefined;
  }
}

/** RFC 9449 §10: dpop_jkt is a base64url SHA-256 thumbprint (43 characters). */
export function isJwkThumbprint(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}
