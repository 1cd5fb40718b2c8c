import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { accessTokenHash, isJwkThumbprint, normalizeHtu, verifyDpopProof } from './dpop.js';
import { InvalidDpopProof } from './errors.js';

const NOW = 1_800_000_000;
const HTU = 'https://id.example/token';
let key: { privateKey: CryptoKey; jwk: JWK };
let other: { privateKey: CryptoKey; jwk: JWK };

async function pair(alg: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: await exportJWK(publicKey) };
}

beforeAll(async () => {
  key = await pair('ES256');
  other = await pair('ES256');
});

function proof(options: { claims?: Record<string, unknown>; header?: Record<string, unknown>; signWith?: CryptoKey } = {}) {
  return new SignJWT({ jti: 'j-1', htm: 'POST', htu: HTU, iat: NOW, ...options.claims })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk, ...options.header })
    .sign(options.signWith ?? key.privateKey);
}

async function failure(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidDpopProof);
    return (error as InvalidDpopProof).description;
  }
  return undefined;
}

const request = { method: 'POST', url: HTU, now: NOW };

describe('DPoP proof validation (RFC 9449 §4.3)', () => {
  it('accepts a valid proof and returns the RFC 7638 thumbprint of its key', async () => {
    const verified = await verifyDpopProof(await proof(), request);
    expect(verified).toEqual({ jkt: await calculateJwkThumbprint(key.jwk, 'sha256'), jti: 'j-1', iat: NOW, nonce: undefined });
  });

  it.each([
    ['typ JWT', { header: { typ: 'JWT' } }, 'the DPoP proof typ must be dpop+jwt'],
    ['htm GET', { claims: { htm: 'GET' } }, 'the DPoP proof htm does not match the request method'],
    ['another htu', { claims: { htu: 'https://id.example/par' } }, 'the DPoP proof htu does not match the request URL'],
    ['no jti', { claims: { jti: undefined } }, 'the DPoP proof jti is missing or invalid'],
    ['an iat 61 s old', { claims: { iat: NOW - 61 } }, 'the DPoP proof is too old (iat)'],
    ['an iat 11 s ahead', { claims: { iat: NOW + 11 } }, 'the DPoP proof iat is in the future'],
    ['no iat', { claims: { iat: undefined } }, 'the DPoP proof iat is missing'],
  ])('refuses %s', async (_name, options, description) => {
    expect(await failure(verifyDpopProof(await proof(options), request))).toBe(description);
  });

  it('accepts iat at the edges of the window (60 s old, 10 s ahead)', async () => {
    expect(await failure(verifyDpopProof(await proof({ claims: { iat: NOW - 60 } }), request))).toBeUndefined();
    expect(await failure(verifyDpopProof(await proof({ claims: { iat: NOW + 10 } }), request))).toBeUndefined();
  });

  it('refuses a private key in the jwk header, and a jwk of another key', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    expect(await failure(verifyDpopProof(await proof({ header: { jwk: privateJwk }, signWith: privateKey }), request))).toBe('the DPoP proof jwk must be a public key');
    expect(await failure(verifyDpopProof(await proof({ header: { jwk: other.jwk } }), request))).toBe('the DPoP proof signature is invalid');
  });

  it('refuses a symmetric or unlisted algorithm', async () => {
    const hs = await new SignJWT({ jti: 'x', htm: 'POST', htu: HTU, iat: NOW }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256' }).sign(new Uint8Array(32));
    expect(await failure(verifyDpopProof(hs, request))).toBe('the DPoP proof alg must be one of ES256, PS256, EdDSA');
    const rsa = await pair('RS256');
    const rs = await new SignJWT({ jti: 'x', htm: 'POST', htu: HTU, iat: NOW }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'RS256', jwk: rsa.jwk }).sign(rsa.privateKey);
    expect(await failure(verifyDpopProof(rs, request))).toBe('the DPoP proof alg must be one of ES256, PS256, EdDSA');
  });

  it('requires ath matching the access token on resource requests (§4.3 (12))', async () => {
    const token = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';
    const resource = { ...request, accessToken: token };
    expect(await failure(verifyDpopProof(await proof(), resource))).toBe('the DPoP proof ath is missing');
    expect(await failure(verifyDpopProof(await proof({ claims: { ath: accessTokenHash('other') } }), resource))).toBe('the DPoP proof ath does not match the access token');
    expect(await failure(verifyDpopProof(await proof({ claims: { ath: accessTokenHash(token) } }), resource))).toBeUndefined();
  });

  it('computes ath as in RFC 9449 §7.1', () => {
    expect(accessTokenHash('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
  });

  it('compares htu without query and fragment, after normalisation (§4.3 (8))', () => {
    expect(normalizeHtu('HTTPS://ID.example:443/token?x=1#f')).toBe(normalizeHtu(HTU));
    expect(normalizeHtu('https://id.example/token/')).not.toBe(normalizeHtu(HTU));
    expect(normalizeHtu('not a url')).toBeUndefined();
  });

  it('recognises a SHA-256 thumbprint for dpop_jkt', () => {
    expect(isJwkThumbprint('a'.repeat(43))).toBe(true);
    expect(isJwkThumbprint('a'.repeat(44))).toBe(false);
    expect(isJwkThumbprint('a'.repeat(42) + '=')).toBe(false);
  });
});
