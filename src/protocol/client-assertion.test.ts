import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTVerifyGetKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertionIssuer, verifyClientAssertion, type ClientAssertionContext } from './client-assertion.js';
import { InvalidClient } from './errors.js';

const NOW = 1_800_000_000;
const ISSUER = 'https://id.example';
let es256: CryptoKey;
let rs256: CryptoKey;
let keys: JWTVerifyGetKey;

beforeAll(async () => {
  const ec = await generateKeyPair('ES256', { extractable: true });
  const rsa = await generateKeyPair('RS256', { extractable: true });
  es256 = ec.privateKey;
  rs256 = rsa.privateKey;
  keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'ec' }, { ...(await exportJWK(rsa.publicKey)), kid: 'rsa' }] });
});

function assertion(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: CryptoKey = es256) {
  return new SignJWT({ iss: 'app', sub: 'app', aud: ISSUER, jti: 'j-1', iat: NOW, exp: NOW + 60, ...claims })
    .setProtectedHeader({ alg: key === rs256 ? 'RS256' : 'ES256', kid: key === rs256 ? 'rsa' : 'ec', ...header })
    .sign(key);
}

const context = (over: Partial<ClientAssertionContext> = {}): ClientAssertionContext => ({
  clientId: 'app',
  profile: 'fapi2',
  issuer: ISSUER,
  endpointUrls: [`${ISSUER}/token`, `${ISSUER}/par`],
  now: NOW,
  ...over,
});

async function failure(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidClient);
    return (error as InvalidClient).description;
  }
  return undefined;
}

describe('client assertions (RFC 7523 §3, FAPI 2.0 §5.3.2.1)', () => {
  it('accepts a valid assertion and returns its jti and exp', async () => {
    await expect(verifyClientAssertion(await assertion(), keys, context())).resolves.toEqual({ jti: 'j-1', exp: NOW + 60 });
  });

  it('reads the iss before verifying, and nothing from a non-JWT', async () => {
    expect(assertionIssuer(await assertion())).toBe('app');
    expect(assertionIssuer('nope')).toBeUndefined();
  });

  it.each([
    ['aud = the token endpoint', { aud: `${ISSUER}/token` }, 'client_assertion aud must be the issuer identifier, as a single string'],
    ['aud as an array', { aud: [ISSUER] }, 'client_assertion aud must be the issuer identifier, as a single string'],
    ['iss of another client', { iss: 'other' }, 'client_assertion iss must be the client_id'],
    ['sub of another client', { sub: 'other' }, 'client_assertion sub must be the client_id'],
    ['an expired exp', { exp: NOW - 11 }, 'client_assertion has expired'],
    ['an exp 301 s away', { exp: NOW + 301 }, 'client_assertion exp must be at most 300 seconds in the future'],
    ['an iat 11 s ahead', { iat: NOW + 11 }, 'client_assertion iat is in the future'],
    ['an nbf 60 s ahead', { nbf: NOW + 60 }, 'client_assertion nbf is in the future'],
    ['no jti', { jti: undefined }, 'client_assertion jti claim is missing or invalid'],
    ['a 257-character jti', { jti: 'j'.repeat(257) }, 'client_assertion jti is missing or invalid'],
  ])('fapi2: refuses %s', async (_name, claims, description) => {
    expect(await failure(verifyClientAssertion(await assertion(claims), keys, context()))).toBe(description);
  });

  it('accepts iat and nbf up to 10 s ahead', async () => {
    expect(await failure(verifyClientAssertion(await assertion({ iat: NOW + 10, nbf: NOW + 10 }), keys, context()))).toBeUndefined();
  });

  it('refuses RS256 for fapi2 and accepts it for oidc', async () => {
    const rs = await assertion({}, {}, rs256);
    expect(await failure(verifyClientAssertion(rs, keys, context()))).toBe('client_assertion alg must be one of ES256, PS256, EdDSA');
    expect(await failure(verifyClientAssertion(rs, keys, context({ profile: 'oidc' })))).toBeUndefined();
  });

  it.each([
    [`${ISSUER}/token`, undefined],
    [`${ISSUER}/par`, undefined],
    [['https://other.example', ISSUER], undefined],
    [`${ISSUER}/userinfo`, 'client_assertion aud must be the issuer identifier or the endpoint URL'],
  ])('oidc: aud %j', async (aud, description) => {
    expect(await failure(verifyClientAssertion(await assertion({ aud }), keys, context({ profile: 'oidc' })))).toBe(description);
  });

  it('checks typ only when present', async () => {
    expect(await failure(verifyClientAssertion(await assertion({}, { typ: 'client-authentication+jwt' }), keys, context()))).toBeUndefined();
    expect(await failure(verifyClientAssertion(await assertion({}, { typ: 'at+jwt' }), keys, context()))).toBe(
      'client_assertion typ must be JWT or client-authentication+jwt when present',
    );
  });

  it('refuses an unknown kid and a signature by another key', async () => {
    expect(await failure(verifyClientAssertion(await assertion({}, { kid: 'nope' }), keys, context()))).toBe('no registered key of the client matches the client_assertion');
    const stranger = (await generateKeyPair('ES256')).privateKey;
    expect(await failure(verifyClientAssertion(await assertion({}, {}, stranger), keys, context()))).toBe('client_assertion signature is invalid');
  });
});
