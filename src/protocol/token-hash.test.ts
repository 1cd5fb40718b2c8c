import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SigningAlg } from '../domain/client.js';
import { atHash } from './token-hash.js';

/** OIDC Core §3.1.3.6, computed here without the code under test. */
function leftHalf(algorithm: 'sha256' | 'sha512', token: string): string {
  const digest = createHash(algorithm).update(Buffer.from(token, 'ascii')).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

const ACCESS_TOKEN = 'Xk2f8yQm1Z-_w0bVtE3aLr9cPq7uN5sHjD4gK6oIiYe';

describe('at_hash (OIDC Core §3.1.3.6)', () => {
  it('matches the example of OIDC Core Appendix A.3 (RS256)', () => {
    expect(atHash('jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y', 'RS256')).toBe('77QmUPtjPfzWtF2AnpK9RQ');
  });

  it.each(['ES256', 'PS256', 'RS256'] as const satisfies readonly SigningAlg[])('is the left half of SHA-256 for %s: 16 bytes, 22 characters', (alg) => {
    const value = atHash(ACCESS_TOKEN, alg);
    expect(value).toBe(leftHalf('sha256', ACCESS_TOKEN));
    expect(value).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(value, 'base64url')).toHaveLength(16);
  });

  it('is the left half of SHA-512 for EdDSA (Ed25519): 32 bytes, 43 characters', () => {
    const value = atHash(ACCESS_TOKEN, 'EdDSA');
    expect(value).toBe(leftHalf('sha512', ACCESS_TOKEN));
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(value, 'base64url')).toHaveLength(32);
  });

  it('differs between two access tokens', () => {
    expect(atHash(`${ACCESS_TOKEN}x`, 'ES256')).not.toBe(atHash(ACCESS_TOKEN, 'ES256'));
  });
});
