import { generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KeyStore } from '../ports/key-store.js';
import { IdTokenHints } from './id-token-hint.js';

const ISSUER = 'https://op.example';
const NOT_OURS = 'id_token_hint is not an ID token issued by this server';
let privateKey: CryptoKey;
let hints: IdTokenHints;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  const keys: KeyStore = {
    signingKey: () => ({ kid: 'k1', alg: 'ES256', privateKey }),
    verificationKey: (kid) => (kid === 'k1' ? { alg: 'ES256', key: pair.publicKey } : undefined),
    jwks: () => ({ keys: [] }),
  };
  hints = new IdTokenHints(keys, ISSUER);
});

/** A token signed with the server's key: header and claims as given (claims replace the defaults). */
function sign(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  return new SignJWT({ iss: ISSUER, sub: 'alice', aud: 'rp', sid: 's1', iat: 1000, exp: 1600, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT', ...header } as { alg: string })
    .sign(privateKey);
}

describe('IdTokenHints.verify (OIDC Core §3.1.2.1, RP-Initiated Logout §2)', () => {
  it('returns sub, aud and sid of an ID token it signed, expired or not', async () => {
    expect(await hints.verify(await sign())).toEqual({ sub: 'alice', aud: ['rp'], sid: 's1' });
    expect(await hints.verify(await sign({ aud: ['rp', 'rp2'], sid: undefined }, { typ: 'jwt' }))).toEqual({ sub: 'alice', aud: ['rp', 'rp2'], sid: undefined });
  });

  it.each<[string, unknown]>([
    ['1', 1],
    ['{}', {}],
    ['true', true],
    ['null', null],
    ['[]', []],
    ['["JWT"]', ['JWT']],
    ['at+jwt', 'at+jwt'],
    ['logout+jwt', 'logout+jwt'],
  ])('refuses typ %s (signed or not), without throwing anything but invalid_request', async (_name, typ) => {
    await expect(hints.verify(await sign({}, { typ }))).rejects.toMatchObject({ error: 'invalid_request', description: NOT_OURS });
  });

  it.each<[string, unknown]>([
    ['1', 1],
    ['{}', {}],
    ['null', null],
    ['["k1"]', ['k1']],
    ['unknown', 'k2'],
    ['__proto__', '__proto__'],
  ])('refuses kid %s', async (_name, kid) => {
    await expect(hints.verify(await sign({}, { kid }))).rejects.toMatchObject({ error: 'invalid_request', description: NOT_OURS });
  });

  it('refuses no typ', async () => {
    await expect(hints.verify(await sign({}, { typ: undefined }))).rejects.toMatchObject({ description: NOT_OURS });
  });

  it.each<[string, Record<string, unknown>]>([
    ['sub 1', { sub: 1 }],
    ['sub {}', { sub: {} }],
    ['an empty sub', { sub: '' }],
    ['no sub', { sub: undefined }],
    ['aud [1]', { aud: [1] }],
    ['aud []', { aud: [] }],
    ['aud {}', { aud: {} }],
    ['aud null', { aud: null }],
    ['sid 1', { sid: 1 }],
    ['sid {}', { sid: {} }],
    ['another issuer', { iss: 'https://evil.example' }],
  ])('refuses a signed token with %s', async (_name, claims) => {
    await expect(hints.verify(await sign(claims))).rejects.toMatchObject({ error: 'invalid_request', description: NOT_OURS });
  });

  it('refuses garbage and an oversized hint', async () => {
    // A signature changed well inside it (its last characters may carry bits a decoder ignores).
    const signed = await sign();
    const at = signed.length - 10;
    const forged = signed.slice(0, at) + (signed[at] === 'A' ? 'B' : 'A') + signed.slice(at + 1);
    for (const hint of ['', 'a', 'a.b.c', '..', 'x'.repeat(4097), forged]) {
      await expect(hints.verify(hint)).rejects.toMatchObject({ description: NOT_OURS });
    }
  });
});
