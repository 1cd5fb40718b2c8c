import { createHash } from 'node:crypto';
import { InvalidGrant, InvalidRequest } from './errors.js';

/**
 * PKCE, RFC 7636. Trusty requires S256 for every client (OAuth 2.1, FAPI 2.0):
 * `plain` and an absent method (which RFC 7636 §4.3 defaults to plain) are refused.
 * @see https://www.rfc-editor.org/rfc/rfc7636
 */
export const CODE_CHALLENGE_METHODS_SUPPORTED = ['S256'] as const;

// RFC 7636 §4.1: code_verifier = 43*128unreserved
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
// An S256 challenge is BASE64URL(SHA256(verifier)): exactly 43 characters.
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Checks the PKCE parameters of an authorization request. */
export function assertCodeChallenge(challenge: string | undefined, method: string | undefined): string {
  if (challenge === undefined) {
    throw new InvalidRequest('code_challenge is required (PKCE with S256)');
  }
  // RFC 7636 §4.3: an absent code_challenge_method means "plain", which we do not accept.
  if (method === undefined) {
    throw new InvalidRequest('code_challenge_method is required and must be S256');
  }
  if (method !== 'S256') {
    throw new InvalidRequest('code_challenge_method must be S256');
  }
  if (!S256_CHALLENGE.test(challenge)) {
    throw new InvalidRequest('code_challenge must be 43 base64url characters');
  }
  return challenge;
}

/** RFC 7636 §4.6: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge. */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/**
 * Verifies a code_verifier at the token endpoint against the challenge bound to the code.
 * RFC 7636 §4.6: the code was issued with a challenge (every code here is), so a missing
 * verifier fails the grant like a wrong one: invalid_grant, not invalid_request.
 */
export function verifyCodeVerifier(verifier: string | undefined, challenge: string): void {
  if (verifier === undefined) {
    throw new InvalidGrant('code_verifier is required');
  }
  if (!VERIFIER.test(verifier)) {
    throw new InvalidGrant('code_verifier must be 43 to 128 unreserved characters');
  }
  // Both sides are public-length base64url digests: plain compare leaks nothing useful,
  // but a constant-time compare costs nothing here either.
  if (!equalAscii(s256(verifier), challenge)) {
    throw new InvalidGrant('code_verifier does not match the code_challenge');
  }
}

function equalAscii(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
