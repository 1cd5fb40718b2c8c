import { describe, expect, it } from 'vitest';
import { InvalidGrant, InvalidRequest } from './errors.js';
import { assertCodeChallenge, s256, verifyCodeVerifier } from './pkce.js';

// RFC 7636 Appendix B
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('PKCE (RFC 7636)', () => {
  it('computes the S256 challenge of the RFC 7636 Appendix B example', () => {
    expect(s256(VERIFIER)).toBe(CHALLENGE);
  });

  it('accepts an S256 challenge', () => {
    expect(assertCodeChallenge(CHALLENGE, 'S256')).toBe(CHALLENGE);
  });

  it.each([
    [undefined, 'S256', 'code_challenge is required (PKCE with S256)'],
    [CHALLENGE, undefined, 'code_challenge_method is required and must be S256'],
    [CHALLENGE, 'plain', 'code_challenge_method must be S256'],
    [CHALLENGE, 's256', 'code_challenge_method must be S256'],
    ['short', 'S256', 'code_challenge must be 43 base64url characters'],
    [CHALLENGE + 'A', 'S256', 'code_challenge must be 43 base64url characters'],
    [CHALLENGE.replace('-', '+'), 'S256', 'code_challenge must be 43 base64url characters'],
  ])('refuses challenge %s with method %s', (challenge, method, description) => {
    const error = catchError(() => assertCodeChallenge(challenge, method));
    expect(error).toBeInstanceOf(InvalidRequest);
    expect(error?.description).toBe(description);
  });

  it('verifies the right verifier and refuses a wrong one with invalid_grant', () => {
    expect(() => verifyCodeVerifier(VERIFIER, CHALLENGE)).not.toThrow();
    expect(() => verifyCodeVerifier(VERIFIER.replace('d', 'e'), CHALLENGE)).toThrow(InvalidGrant);
  });

  it('requires the verifier with invalid_grant: the code was issued with a challenge (§4.6)', () => {
    const error = catchError(() => verifyCodeVerifier(undefined, CHALLENGE));
    expect(error).toBeInstanceOf(InvalidGrant);
    expect(error?.description).toBe('code_verifier is required');
  });

  it.each([
    ['42 characters', 'a'.repeat(42)],
    ['129 characters', 'a'.repeat(129)],
    ['a forbidden character', 'a'.repeat(42) + '!'],
  ])('refuses a verifier of %s (RFC 7636 §4.1) with invalid_grant', (_name, verifier) => {
    const error = catchError(() => verifyCodeVerifier(verifier, CHALLENGE));
    expect(error).toBeInstanceOf(InvalidGrant);
    expect(error?.description).toBe('code_verifier must be 43 to 128 unreserved characters');
  });
});

function catchError(fn: () => unknown): (InvalidRequest | InvalidGrant) | undefined {
  try {
    fn();
  } catch (error) {
    return error as InvalidRequest | InvalidGrant;
  }
  return undefined;
}
