import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { accessTokenHash, DpopKeyCache, DPOP_FUTURE_SKEW, DPOP_PROOF_MAX_AGE, DPOP_SIGNING_ALGS, isJwkThumbprint, normalizeHtu, verifyDpopProof, type DpopRequest } from './dpop.js';
import { InvalidDpopProof } from './errors.js';

/** RFC 9449 §4.3: DPoP proof validation, with a frozen clock. */

const NOW = 1_800_000_000;
const HTU = 'https://id.example/token';
const REQUEST: DpopRequest = { method: 'POST', url: HTU, now: NOW };
/** RFC 9449 §7.1, the example access token and its ath. */
const RFC_ACCESS_TOKEN = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';
const RFC_ATH = 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo';

interface Signer {
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

const signers = new Map<string, Signer>();
let es256: Signer;

async function signer(alg: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, privateKey, jwk: await exportJWK(publicKey) };
}

beforeAll(async () => {
  for (const alg of [...DPOP_SIGNING_ALGS, 'RS256']) signers.set(alg, await signer(alg));
  es256 = signers.get('ES256')!;
});

interface ProofOptions {
  readonly claims?: Record<string, unknown>;
  readonly header?: Record<string, unknown>;
  readonly by?: Signer;
}

/** A well-formed proof for REQUEST; `claims` and `header` override (undefined removes a member). */
function proof({ claims, header, by = es256 }: ProofOptions = {}): Promise<string> {
  return new SignJWT({ jti: 'jti-1', htm: 'POST', htu: HTU, iat: NOW, ...claims })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: by.alg, jwk: by.jwk, ...header })
    .sign(by.privateKey);
}

/** The InvalidDpopProof the promise rejects with (failing the test on any other outcome). */
async function refusal(promise: Promise<unknown>): Promise<InvalidDpopProof> {
  const error = await promise.then(
    () => expect.fail('expected the DPoP proof to be refused'),
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(InvalidDpopProof);
  expect((error as InvalidDpopProof).error).toBe('invalid_dpop_proof');
  return error as InvalidDpopProof;
}

async function refusedWith(promise: Promise<unknown>): Promise<string> {
  return (await refusal(promise)).description;
}

const json = (value: unknown) => base64url.encode(JSON.stringify(value));

describe('verifyDpopProof: a valid proof', () => {
  it.each(DPOP_SIGNING_ALGS)('accepts %s and returns the RFC 7638 SHA-256 thumbprint of the public jwk as jkt', async (alg) => {
    const by = signers.get(alg)!;
    const verified = await verifyDpopProof(await proof({ by }), REQUEST);
    expect(verified).toEqual({ jkt: await calculateJwkThumbprint(by.jwk, 'sha256'), jti: 'jti-1', iat: NOW, nonce: undefined });
    expect(isJwkThumbprint(verified.jkt)).toBe(true);
  });

  it('returns the nonce the proof carries', async () => {
    await expect(verifyDpopProof(await proof({ claims: { nonce: 'n-1' } }), REQUEST)).resolves.toMatchObject({ nonce: 'n-1' });
    await expect(verifyDpopProof(await proof({ claims: { nonce: 'n'.repeat(256) } }), REQUEST)).resolves.toMatchObject({ nonce: 'n'.repeat(256) });
  });

  it('ignores ath when the request carries no access token (token endpoint)', async () => {
    await expect(verifyDpopProof(await proof({ claims: { ath: 'anything' } }), REQUEST)).resolves.toMatchObject({ jti: 'jti-1' });
  });
});

describe('verifyDpopProof: the JOSE header (RFC 9449 §4.3 (4), (5), (6))', () => {
  it.each([
    ['no typ', { typ: undefined }],
    ['typ JWT', { typ: 'JWT' }],
    ['typ at+jwt', { typ: 'at+jwt' }],
  ])('refuses %s', async (_name, header) => {
    expect(await refusedWith(verifyDpopProof(await proof({ header }), REQUEST))).toBe('the DPoP proof typ must be dpop+jwt');
  });

  it.each(['application/dpop+jwt', 'DPoP+JWT'])('accepts typ %s (RFC 7515 §4.1.9: the same media type)', async (typ) => {
    await expect(verifyDpopProof(await proof({ header: { typ } }), REQUEST)).resolves.toMatchObject({ jti: 'jti-1' });
  });

  it('refuses HS256 (symmetric)', async () => {
    const hs = await new SignJWT({ jti: 'jti-1', htm: 'POST', htu: HTU, iat: NOW })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: es256.jwk })
      .sign(new Uint8Array(32));
    expect(await refusedWith(verifyDpopProof(hs, REQUEST))).toBe('the DPoP proof alg must be one of ES256, PS256, EdDSA');
  });

  it('refuses alg none', async () => {
    const unsecured = `${json({ typ: 'dpop+jwt', alg: 'none', jwk: es256.jwk })}.${json({ jti: 'jti-1', htm: 'POST', htu: HTU, iat: NOW })}.`;
    expect(await refusedWith(verifyDpopProof(unsecured, REQUEST))).toBe('the DPoP proof alg must be one of ES256, PS256, EdDSA');
  });

  it('refuses RS256, an asymmetric algorithm outside DPOP_SIGNING_ALGS', async () => {
    const rs = await proof({ by: signers.get('RS256')! });
    expect(await refusedWith(verifyDpopProof(rs, REQUEST))).toBe('the DPoP proof alg must be one of ES256, PS256, EdDSA');
  });

  it('refuses a jwk carrying the private key', async () => {
    const privateJwk = await exportJWK(es256.privateKey);
    expect(privateJwk.d).toBeDefined();
    expect(await refusedWith(verifyDpopProof(await proof({ header: { jwk: privateJwk } }), REQUEST))).toBe('the DPoP proof jwk must be a public key');
  });

  it('refuses a symmetric jwk (k is private material)', async () => {
    const jwk = { kty: 'oct', k: base64url.encode(new Uint8Array(32)) };
    expect(await refusedWith(verifyDpopProof(await proof({ header: { jwk } }), REQUEST))).toBe('the DPoP proof jwk must be a public key');
  });

  it('refuses a jwk of another key than the signer', async () => {
    const other = await signer('ES256');
    expect(await refusedWith(verifyDpopProof(await proof({ header: { jwk: other.jwk } }), REQUEST))).toBe('the DPoP proof signature is invalid');
  });

  it('refuses a proof without a jwk header, and what is not a JWT', async () => {
    const generic = 'the DPoP proof is not a valid signed JWT with a jwk header';
    expect(await refusedWith(verifyDpopProof(await proof({ header: { jwk: undefined } }), REQUEST))).toBe(generic);
    expect(await refusedWith(verifyDpopProof('not.a.jwt', REQUEST))).toBe(generic);
    expect(await refusedWith(verifyDpopProof('', REQUEST))).toBe(generic);
  });

  it('refuses a tampered payload', async () => {
    const [header, , signature] = (await proof()).split('.');
    const tampered = `${header}.${json({ jti: 'jti-1', htm: 'POST', htu: HTU, iat: NOW + 1 })}.${signature}`;
    expect(await refusedWith(verifyDpopProof(tampered, REQUEST))).toBe('the DPoP proof signature is invalid');
  });
});

describe('verifyDpopProof: length', () => {
  /**
   * A proof of exactly `length` characters, padded with a claim. Unpadded base64url never has a
   * length of 4k + 1, so an extra header member shifts the header's length too.
   */
  async function proofOfLength(length: number): Promise<string> {
    for (const x of ['x', 'xx', 'xxx']) {
      const base = (await proof({ claims: { pad: '' }, header: { x } })).length;
      for (let pad = Math.floor(((length - base) * 3) / 4) - 4; ; pad++) {
        const candidate = await proof({ claims: { pad: 'p'.repeat(pad) }, header: { x } });
        if (candidate.length === length) return candidate;
        if (candidate.length > length) break;
      }
    }
    throw new Error(`no proof of length ${length}`);
  }

  it('accepts a proof of 8192 characters and refuses one longer', async () => {
    await expect(verifyDpopProof(await proofOfLength(8192), REQUEST)).resolves.toBeDefined();
    expect(await refusedWith(verifyDpopProof(await proofOfLength(8193), REQUEST))).toBe('the DPoP proof is too long');
    expect(await refusedWith(verifyDpopProof('a'.repeat(100_000), REQUEST))).toBe('the DPoP proof is too long');
  });
});

describe('verifyDpopProof: the claims (RFC 9449 §4.3 (7)–(12))', () => {
  it.each([
    ['no jti', { jti: undefined }],
    ['an empty jti', { jti: '' }],
    ['a numeric jti', { jti: 1 }],
    ['a 257-character jti', { jti: 'j'.repeat(257) }],
  ])('refuses %s', async (_name, claims) => {
    expect(await refusedWith(verifyDpopProof(await proof({ claims }), REQUEST))).toBe('the DPoP proof jti is missing or invalid');
  });

  it('accepts a 256-character jti', async () => {
    await expect(verifyDpopProof(await proof({ claims: { jti: 'j'.repeat(256) } }), REQUEST)).resolves.toMatchObject({ jti: 'j'.repeat(256) });
  });

  it.each([
    ['another method', { htm: 'GET' }],
    ['the method in lower case', { htm: 'post' }],
    ['no htm', { htm: undefined }],
  ])('refuses htm: %s', async (_name, claims) => {
    expect(await refusedWith(verifyDpopProof(await proof({ claims }), REQUEST))).toBe('the DPoP proof htm does not match the request method');
  });

  it.each([
    ['another path', 'https://id.example/par'],
    ['a trailing slash', 'https://id.example/token/'],
    ['another host', 'https://other.example/token'],
    ['another scheme', 'http://id.example/token'],
    ['another port', 'https://id.example:8443/token'],
    ['a path in another case', 'https://id.example/TOKEN'],
    ['a relative reference', '/token'],
    ['no htu', undefined],
    ['a numeric htu', 42],
  ])('refuses htu: %s', async (_name, htu) => {
    expect(await refusedWith(verifyDpopProof(await proof({ claims: { htu } }), REQUEST))).toBe('the DPoP proof htu does not match the request URL');
  });

  it.each([
    ['a query', 'https://id.example/token?a=1'],
    ['a fragment', 'https://id.example/token#f'],
    ['an upper-case scheme and host, and the default port', 'HTTPS://ID.EXAMPLE:443/token'],
  ])('accepts htu with %s (§4.3 (8): compared without query and fragment, after normalization)', async (_name, htu) => {
    await expect(verifyDpopProof(await proof({ claims: { htu } }), REQUEST)).resolves.toMatchObject({ jti: 'jti-1' });
  });

  it('normalizes the request URL too (HTTP://EXAMPLE.com:80/token against http://example.com/token)', async () => {
    const request = { ...REQUEST, url: 'HTTP://EXAMPLE.com:80/token' };
    await expect(verifyDpopProof(await proof({ claims: { htu: 'http://example.com/token' } }), request)).resolves.toBeDefined();
    const reverse = { ...REQUEST, url: 'http://example.com/token' };
    await expect(verifyDpopProof(await proof({ claims: { htu: 'HTTP://EXAMPLE.com:80/token?x=1' } }), reverse)).resolves.toBeDefined();
  });

  it('refuses a proof without iat', async () => {
    expect(await refusedWith(verifyDpopProof(await proof({ claims: { iat: undefined } }), REQUEST))).toBe('the DPoP proof iat is missing');
  });

  it('refuses a non-numeric iat (jose rejects it before the module looks)', async () => {
    expect(await refusedWith(verifyDpopProof(await proof({ claims: { iat: String(NOW) } }), REQUEST))).toBe(
      'the DPoP proof is not a valid signed JWT with a jwk header',
    );
  });

  it(`accepts iat from now - ${DPOP_PROOF_MAX_AGE} to now + ${DPOP_FUTURE_SKEW}, and refuses beyond (§11.1)`, async () => {
    for (const iat of [NOW - DPOP_PROOF_MAX_AGE, NOW - 1, NOW, NOW + DPOP_FUTURE_SKEW]) {
      await expect(verifyDpopProof(await proof({ claims: { iat } }), REQUEST)).resolves.toMatchObject({ iat });
    }
    expect(await refusedWith(verifyDpopProof(await proof({ claims: { iat: NOW - DPOP_PROOF_MAX_AGE - 1 } }), REQUEST))).toBe('the DPoP proof is too old (iat)');
    expect(await refusedWith(verifyDpopProof(await proof({ claims: { iat: NOW + DPOP_FUTURE_SKEW + 1 } }), REQUEST))).toBe('the DPoP proof iat is in the future');
  });

  it('uses the maxAge of the request when given', async () => {
    const request = { ...REQUEST, maxAge: 300 };
    await expect(verifyDpopProof(await proof({ claims: { iat: NOW - 300 } }), request)).resolves.toMatchObject({ iat: NOW - 300 });
    expect(await refusedWith(verifyDpopProof(await proof({ claims: { iat: NOW - 301 } }), request))).toBe('the DPoP proof is too old (iat)');
    const strict = { ...REQUEST, maxAge: 5 };
    expect(await refusedWith(verifyDpopProof(await proof({ claims: { iat: NOW - 6 } }), strict))).toBe('the DPoP proof is too old (iat)');
  });

  it.each([
    ['a numeric nonce', 1],
    ['a 257-character nonce', 'n'.repeat(257)],
  ])('refuses %s', async (_name, nonce) => {
    expect(await refusedWith(verifyDpopProof(await proof({ claims: { nonce } }), REQUEST))).toBe('the DPoP proof nonce is invalid');
  });
});

describe('verifyDpopProof: ath on resource requests (RFC 9449 §4.3 (12), §7)', () => {
  const resource: DpopRequest = { method: 'GET', url: 'https://id.example/userinfo', now: NOW, accessToken: RFC_ACCESS_TOKEN };
  const resourceProof = (claims: Record<string, unknown>) => proof({ claims: { htm: 'GET', htu: resource.url, ...claims } });

  it('accepts the hash of the access token', async () => {
    await expect(verifyDpopProof(await resourceProof({ ath: RFC_ATH }), resource)).resolves.toMatchObject({ jti: 'jti-1' });
  });

  it.each([
    ['no ath', undefined],
    ['a numeric ath', 1],
  ])('refuses %s', async (_name, ath) => {
    expect(await refusedWith(verifyDpopProof(await resourceProof({ ath }), resource))).toBe('the DPoP proof ath is missing');
  });

  it.each([
    ['the hash of another token', accessTokenHash('another token')],
    ['the access token itself', RFC_ACCESS_TOKEN],
    ['the hash with base64 padding', `${RFC_ATH}=`],
  ])('refuses %s', async (_name, ath) => {
    expect(await refusedWith(verifyDpopProof(await resourceProof({ ath }), resource))).toBe('the DPoP proof ath does not match the access token');
  });
});

describe('accessTokenHash', () => {
  it('matches the example of RFC 9449 §7.1', () => {
    expect(accessTokenHash(RFC_ACCESS_TOKEN)).toBe(RFC_ATH);
  });
});

describe('normalizeHtu', () => {
  it.each([
    ['https://id.example/token?x=1#f', 'https://id.example/token'],
    ['https://id.example/token?', 'https://id.example/token'],
    ['HTTP://EXAMPLE.com:80/token', 'http://example.com/token'],
    ['HTTPS://ID.example:443/token', 'https://id.example/token'],
    ['https://id.example:8443/token', 'https://id.example:8443/token'],
    ['https://id.example', 'https://id.example/'],
    ['https://id.example/a/../token', 'https://id.example/token'],
  ])('%s → %s', (value, normalized) => {
    expect(normalizeHtu(value)).toBe(normalized);
  });

  it.each(['not a url', '/token', ''])('is undefined for %j', (value) => {
    expect(normalizeHtu(value)).toBeUndefined();
  });
});

describe('isJwkThumbprint (RFC 9449 §10: dpop_jkt)', () => {
  it('recognises a base64url SHA-256 thumbprint', async () => {
    expect(isJwkThumbprint(await calculateJwkThumbprint(es256.jwk, 'sha256'))).toBe(true);
    expect(isJwkThumbprint('A-_z'.repeat(10) + 'abc')).toBe(true);
  });

  it.each([
    ['42 characters', 'a'.repeat(42)],
    ['44 characters', 'a'.repeat(44)],
    ['base64 padding', `${'a'.repeat(42)}=`],
    ['a + (base64, not base64url)', `${'a'.repeat(42)}+`],
    ['a /', `${'a'.repeat(42)}/`],
    ['an empty string', ''],
  ])('refuses %s', (_name, value) => {
    expect(isJwkThumbprint(value)).toBe(false);
  });
});

describe('DpopKeyCache: proof keys imported once', () => {
  it('serves a second proof of the same key from the cache, with the same thumbprint, and still checks its signature', async () => {
    const keys = new DpopKeyCache(10);
    const first = await verifyDpopProof(await proof(), REQUEST, keys);
    const second = await verifyDpopProof(await proof({ claims: { jti: 'jti-2' } }), REQUEST, keys);
    expect(keys.size).toBe(1);
    expect(second.jkt).toBe(first.jkt);
    expect(first.jkt).toBe(await calculateJwkThumbprint(es256.jwk, 'sha256'));
    // The cached key of es256 in the header, but signed by another key: refused.
    const forged = await proof({ by: { ...(await signer('ES256')), jwk: es256.jwk } });
    expect(await refusedWith(verifyDpopProof(forged, REQUEST, keys))).toBe('the DPoP proof signature is invalid');
  });

  it('keys entries by the whole jwk and alg: the same key material with use "enc" is still refused', async () => {
    const keys = new DpopKeyCache(10);
    await verifyDpopProof(await proof(), REQUEST, keys);
    expect(await refusedWith(verifyDpopProof(await proof({ header: { jwk: { ...es256.jwk, use: 'enc' } } }), REQUEST, keys))).toBe(
      'the DPoP proof is not a valid signed JWT with a jwk header',
    );
    expect(keys.size).toBe(1);
  });

  it('holds at most its capacity, dropping the oldest key', async () => {
    const keys = new DpopKeyCache(2);
    const others = [await signer('ES256'), await signer('ES256')];
    for (const by of [es256, ...others]) await verifyDpopProof(await proof({ by }), REQUEST, keys);
    expect(keys.size).toBe(2);
    await expect(verifyDpopProof(await proof({ claims: { jti: 'jti-3' } }), REQUEST, keys)).resolves.toMatchObject({ jti: 'jti-3' });
    expect(keys.size).toBe(2);
  });
});
