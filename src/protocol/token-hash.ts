import { createHash } from 'node:crypto';
import type { SigningAlg } from '../domain/client.js';

/**
 * OIDC Core §3.1.3.6 at_hash: base64url of the left-most half of the hash of the ASCII
 * access token, with the hash of the ID Token's alg (SHA-256 for ES256/PS256/RS256;
 * SHA-512 for EdDSA with Ed25519, as OpenID's EdDSA convention and oauth4webapi use).
 */
export function atHash(accessToken: string, alg: SigningAlg): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}
