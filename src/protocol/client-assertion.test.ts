import { base64url, createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTVerifyGetKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClientProfile } from '../domain/client.js';
import {
  ASSERTION_FUTURE_SKEW,
  assertionIssuer,
  MAX_ASSERTION_AGE,
  MAX_ASSERTION_LIFETIME,
  verifyClientAssertion,
  type ClientAssertionAudience,
  type ClientAssertionContext,
} from './client-assertion.js';
import { InvalidClient } from './errors.js';

/** private_key_jwt: RFC 7523 §3, OIDC Core §9, FAPI 2.0 §5.3.2.1, with a frozen clock. */

const NOW = 1_800_000_000;
const ISSUER = 'https://id.example';
const TOKEN_ENDPOINT = `${ISSUER}/token`;
const PAR_ENDPOINT = `${ISSUER}/par`;
const PROFILES: readonly ClientProfile[] = ['fapi2', 'oidc'];
const ALGS_MESSAGE: Record<ClientProfile, string> = {
  fapi2: 'client_assertion alg must be one of ES256, PS256, EdDSA',
  oidc: 'client_assertion alg must be one of ES256, PS256, EdDSA, RS256',
};

interface Signer {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: CryptoKey;
}

let ec: Signer;
let ed: Signer;
let ps: Signer;
let rs: Signer;
/** Signs with the registered EC key's kid, but is not registered. */
let stranger: Signer;
/** The client's registered keys: EC (kid ec), RSA (kid ps, kid rs), Ed25519 (kid ed). */
let keys: JWTVerifyGetKey;

beforeAll(async () => {
  const ecPair = await generateKeyPair('ES256');
  const psPair = await generateKeyPair('PS256');
  const rsPair = await generateKeyPair('RS256');
  const edPair = await generateKeyPair('EdDSA');
  ec = { alg: 'ES256', kid: 'ec', privateKey: ecPair.privateKey };
  ps = { alg: 'PS256', kid: 'ps', privateKey: psPair.privateKey };
  rs = { alg: 'RS256', kid: 'rs', privateKey: rsPair.privateKey };
  ed = { alg: 'EdDSA', kid: 'ed', privateKey: edPair.privateKey };
  stranger = { alg: 'ES256', kid: 'ec', privateKey: (await generateKeyPair('ES256')).privateKey };
  keys = createLocalJWKSet({
    keys: [
      { ...(await exportJWK(ecPair.publicKey)), kid: 'ec' },
      { ...(await exportJWK(psPair.publicKey)), kid: 'ps' },
      { ...(await exportJWK(rsPair.publicKey)), kid: 'rs' },
      { ...(await exportJWK(edPair.publicKey)), kid: 'ed' },
    ],
  });
});

interface AssertionOptions {
  readonly claims?: Record<string, unknown>;
  readonly header?: Record<string, unknown>;
  readonly by?: Signer;
}

/** A valid assertion of client "app" for ISSUER; `claims` and `header` override (undefined removes a member). */
function assertion({ claims, header, by = ec }: AssertionOptions = {}): Promise<string> {
  return new SignJWT({ iss: 'app', sub: 'app', aud: ISSUER, jti: 'jti-1', iat: NOW, exp: NOW + 60, ...claims })
    .setProtectedHeader({ alg: by.alg, kid: by.kid, ...header })
    .sign(by.privateKey);
}

function context(profile: ClientProfile, audience: ClientAssertionAudience = 'issuer'): ClientAssertionContext {
  return { clientId: 'app', profile, audience, issuer: ISSUER, endpointUrls: [TOKEN_ENDPOINT, PAR_ENDPOINT], now: NOW };
}

/** The description of the InvalidClient the promise rejects with (failing the test on any other outcome). */
async function refusedWith(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => expect.fail('expected the client_assertion to be refused'),
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(InvalidClient);
  expect(error).toMatchObject({ error: 'invalid_client', status: 401, basicChallenge: false });
  return (error as InvalidClient).description;
}

const json = (value: unknown) => base64url.encode(JSON.stringify(value));

describe('assertionIssuer', () => {
  it('reads iss without verifying anything', async () => {
    expect(assertionIssuer(await assertion())).toBe('app');
    expect(assertionIssuer(await assertion({ by: stranger, claims: { exp: NOW - 3600 } }))).toBe('app');
  });

  it.each([
    ['no iss', async () => assertion({ claims: { iss: undefined } })],
    ['a numeric iss', async () => assertion({ claims: { iss: 42 } })],
    ['something that is not a JWT', async () => 'nope'],
    ['an empty string', async () => ''],
    ['more than 8192 characters', async () => assertion({ claims: { pad: 'p'.repeat(8192) } })],
  ])('is undefined for %s', async (_name, make) => {
    expect(assertionIssuer(await make())).toBeUndefined();
  });
});

describe.each(PROFILES)('verifyClientAssertion, rules shared by both profiles (%s)', (profile) => {
  const verify = (value: string) => verifyClientAssertion(value, keys, context(profile));

  it.each(['ES256', 'PS256', 'EdDSA'])('accepts %s and returns jti and exp', async (alg) => {
    const by = { ES256: ec, PS256: ps, EdDSA: ed }[alg]!;
    await expect(verify(await assertion({ by }))).resolves.toMatchObject({ jti: 'jti-1', exp: NOW + 60 });
  });

  it('accepts an assertion without kid when one registered key fits the alg', async () => {
    await expect(verify(await assertion({ by: ed, header: { kid: undefined } }))).resolves.toMatchObject({ jti: 'jti-1', exp: NOW + 60 });
  });

  it('accepts an assertion without iat (RFC 7523 §3: iat is optional)', async () => {
    await expect(verify(await assertion({ claims: { iat: undefined } }))).resolves.toMatchObject({ jti: 'jti-1', exp: NOW + 60 });
  });

  it('refuses HS256 (symmetric)', async () => {
    const hs = await new SignJWT({ iss: 'app', sub: 'app', aud: ISSUER, jti: 'jti-1', exp: NOW + 60 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new Uint8Array(32));
    expect(await refusedWith(verify(hs))).toBe(ALGS_MESSAGE[profile]);
  });

  it('refuses alg none', async () => {
    const unsecured = `${json({ alg: 'none' })}.${json({ iss: 'app', sub: 'app', aud: ISSUER, jti: 'jti-1', exp: NOW + 60 })}.`;
    expect(await refusedWith(verify(unsecured))).toBe(ALGS_MESSAGE[profile]);
  });

  it.each([
    ['an iss of another client', { iss: 'other' }, 'client_assertion iss must be the client_id'],
    ['a numeric iss', { iss: 1 }, 'client_assertion iss must be the client_id'],
    ['no iss', { iss: undefined }, 'client_assertion iss claim is missing or invalid'],
    ['a sub of another client', { sub: 'other' }, 'client_assertion sub must be the client_id'],
    ['no sub', { sub: undefined }, 'client_assertion sub claim is missing or invalid'],
    ['no aud', { aud: undefined }, 'client_assertion aud claim is missing or invalid'],
    ['no exp', { exp: undefined }, 'client_assertion exp claim is missing or invalid'],
    ['a string exp', { exp: String(NOW + 60) }, 'client_assertion exp claim is missing or invalid'],
    ['a string iat', { iat: String(NOW) }, 'client_assertion iat claim is missing or invalid'],
    ['no jti', { jti: undefined }, 'client_assertion jti claim is missing or invalid'],
    ['an empty jti', { jti: '' }, 'client_assertion jti claim is missing or invalid'],
    ['a numeric jti', { jti: 7 }, 'client_assertion jti claim is missing or invalid'],
    ['a 257-character jti', { jti: 'j'.repeat(257) }, 'client_assertion jti claim is missing or invalid'],
  ])('refuses %s', async (_name, claims, description) => {
    expect(await refusedWith(verify(await assertion({ claims })))).toBe(description);
  });

  it('refuses a string nbf as an invalid claim, not as one in the future', async () => {
    expect(await refusedWith(verify(await assertion({ claims: { nbf: String(NOW) } })))).toBe('client_assertion nbf claim is missing or invalid');
  });

  it('accepts a 256-character jti', async () => {
    await expect(verify(await assertion({ claims: { jti: 'j'.repeat(256) } }))).resolves.toMatchObject({ jti: 'j'.repeat(256) });
  });

  it(`accepts an exp until ${ASSERTION_FUTURE_SKEW} s in the past (clock tolerance), and refuses it from then on`, async () => {
    for (const exp of [NOW - ASSERTION_FUTURE_SKEW + 1, NOW]) {
      await expect(verify(await assertion({ claims: { exp, iat: NOW - 60 } }))).resolves.toMatchObject({ jti: 'jti-1', exp });
    }
    for (const exp of [NOW - ASSERTION_FUTURE_SKEW, NOW - 3600]) {
      expect(await refusedWith(verify(await assertion({ claims: { exp, iat: NOW - 7200 } })))).toBe('client_assertion has expired');
    }
  });

  it(`accepts an exp at most ${MAX_ASSERTION_AGE} s away without iat or nbf (RFC 7523 §3 (4))`, async () => {
    const longest = NOW + MAX_ASSERTION_AGE;
    await expect(verify(await assertion({ claims: { iat: undefined, exp: longest } }))).resolves.toMatchObject({ jti: 'jti-1', exp: longest });
    const refusal = 'client_assertion exp must be at most 300 seconds in the future when iat is absent';
    expect(await refusedWith(verify(await assertion({ claims: { iat: undefined, exp: longest + 1 } })))).toBe(refusal);
    expect(await refusedWith(verify(await assertion({ claims: { iat: undefined, exp: NOW + 3600 } })))).toBe(refusal);
  });

  // Authlib's PrivateKeyJWT signs exp = iat + 3600; Okta and Google accept up to an hour.
  it(`accepts an exp up to ${MAX_ASSERTION_LIFETIME} s (+${ASSERTION_FUTURE_SKEW} s) away with a recent iat or nbf`, async () => {
    for (const claims of [{ iat: NOW, exp: NOW + 3600 }, { iat: undefined, nbf: NOW, exp: NOW + 3600 }, { iat: NOW + 10, exp: NOW + 3610 }, { iat: NOW - 310, exp: NOW + 3290 }]) {
      await expect(verify(await assertion({ claims }))).resolves.toMatchObject({ jti: 'jti-1', exp: claims.exp });
    }
    expect(await refusedWith(verify(await assertion({ claims: { iat: NOW, exp: NOW + 3611 } })))).toBe('client_assertion exp must be at most 3600 seconds in the future');
    expect(await refusedWith(verify(await assertion({ claims: { iat: NOW, exp: NOW + 86_400 } })))).toBe('client_assertion exp must be at most 3600 seconds in the future');
  });

  it(`refuses an iat (or, without iat, an nbf) more than ${MAX_ASSERTION_AGE} s (+${ASSERTION_FUTURE_SKEW} s) old, whatever exp says (RFC 7523 §3 (6))`, async () => {
    expect(await refusedWith(verify(await assertion({ claims: { iat: NOW - 311, exp: NOW + 3289 } })))).toBe('client_assertion iat must be at most 300 seconds in the past');
    expect(await refusedWith(verify(await assertion({ claims: { iat: NOW - 311, exp: NOW + 60 } })))).toBe('client_assertion iat must be at most 300 seconds in the past');
    expect(await refusedWith(verify(await assertion({ claims: { iat: undefined, nbf: NOW - 311, exp: NOW + 60 } })))).toBe('client_assertion nbf must be at most 300 seconds in the past');
  });

  it('says until when the jti must be remembered: while the assertion can still be accepted, min(exp, iat or nbf + 300) + 10 s', async () => {
    const cases: Array<[Record<string, unknown>, number, number]> = [
      [{ iat: NOW, exp: NOW + 60 }, NOW + 60 + 10, NOW],
      [{ iat: NOW, exp: NOW + 3600 }, NOW + 300 + 10, NOW],
      [{ iat: NOW - 200, exp: NOW + 3400 }, NOW + 100 + 10, NOW - 200],
      [{ iat: undefined, nbf: NOW - 5, exp: NOW + 3595 }, NOW + 295 + 10, NOW - 5],
      [{ iat: undefined, exp: NOW + 300 }, NOW + 300 + 10, NOW],
      [{ iat: undefined, exp: NOW + 100 }, NOW + 100 + 10, NOW - 200],
    ];
    for (const [claims, usableUntil, usableFrom] of cases) {
      await expect(verify(await assertion({ claims }))).resolves.toEqual({ jti: 'jti-1', exp: claims.exp, usableUntil, usableFrom });
    }
  });

  it(`accepts iat and nbf up to ${ASSERTION_FUTURE_SKEW} s ahead (FAPI 2.0 §5.3.2.1), refuses 11 s and more`, async () => {
    const edge = NOW + ASSERTION_FUTURE_SKEW;
    await expect(verify(await assertion({ claims: { iat: edge, nbf: edge } }))).resolves.toMatchObject({ jti: 'jti-1', exp: NOW + 60 });
    for (const ahead of [11, 12, 60]) {
      expect(await refusedWith(verify(await assertion({ claims: { iat: NOW + ahead } })))).toBe('client_assertion iat is in the future');
      expect(await refusedWith(verify(await assertion({ claims: { nbf: NOW + ahead } })))).toBe('client_assertion nbf is in the future');
    }
  });

  it.each([undefined, 'JWT', 'jwt', 'client-authentication+jwt', 'application/client-authentication+jwt', 'Client-Authentication+JWT'])(
    'accepts typ %s',
    async (typ) => {
      await expect(verify(await assertion({ header: { typ } }))).resolves.toMatchObject({ jti: 'jti-1', exp: NOW + 60 });
    },
  );

  it.each(['at+jwt', 'dpop+jwt', 'logout+jwt', 'JOSE', '', 1])('refuses typ %j', async (typ) => {
    expect(await refusedWith(verify(await assertion({ header: { typ } })))).toBe('client_assertion typ must be JWT or client-authentication+jwt when present');
  });

  it('refuses a kid the client has not registered', async () => {
    expect(await refusedWith(verify(await assertion({ header: { kid: 'nope' } })))).toBe('no registered key of the client matches the client_assertion');
  });

  it('refuses a kid of a key of another type than the alg', async () => {
    expect(await refusedWith(verify(await assertion({ header: { kid: 'ps' } })))).toBe('no registered key of the client matches the client_assertion');
  });

  it('refuses a signature by a key the client has not registered', async () => {
    expect(await refusedWith(verify(await assertion({ by: stranger })))).toBe('client_assertion signature is invalid');
  });

  it('refuses a tampered payload', async () => {
    const [header, , signature] = (await assertion()).split('.');
    const tampered = `${header}.${json({ iss: 'app', sub: 'app', aud: ISSUER, jti: 'jti-2', exp: NOW + 60 })}.${signature}`;
    expect(await refusedWith(verify(tampered))).toBe('client_assertion signature is invalid');
  });

  it('refuses an assertion without kid when several registered keys fit the alg', async () => {
    const ecA = await generateKeyPair('ES256');
    const ecB = await generateKeyPair('ES256');
    const twoKeys = createLocalJWKSet({ keys: [await exportJWK(ecA.publicKey), await exportJWK(ecB.publicKey)] });
    const value = await assertion({ by: { alg: 'ES256', kid: 'unused', privateKey: ecA.privateKey }, header: { kid: undefined } });
    expect(await refusedWith(verifyClientAssertion(value, twoKeys, context(profile)))).toBe('several registered keys match the client_assertion: set kid');
  });

  it('refuses more than 8192 characters, and what is not a JWT', async () => {
    expect(await refusedWith(verify('a'.repeat(8193)))).toBe('client_assertion is too long');
    expect(await refusedWith(verify(await assertion({ claims: { pad: 'p'.repeat(8192) } })))).toBe('client_assertion is too long');
    expect(await refusedWith(verify('not.a.jwt'))).toBe('client_assertion is not a valid signed JWT');
    expect(await refusedWith(verify(''))).toBe('client_assertion is not a valid signed JWT');
  });
});

describe('verifyClientAssertion, fapi2 profile', () => {
  const verify = (value: string) => verifyClientAssertion(value, keys, context('fapi2'));
  const audMessage = 'client_assertion aud must be the issuer identifier, as a single string';

  it('refuses RS256 (FAPI 2.0 §5.4: PS256, ES256 or EdDSA)', async () => {
    expect(await refusedWith(verify(await assertion({ by: rs })))).toBe('client_assertion alg must be one of ES256, PS256, EdDSA');
  });

  it.each([
    ['the issuer in an array', [ISSUER]],
    ['the token endpoint URL', TOKEN_ENDPOINT],
    ['the PAR endpoint URL', PAR_ENDPOINT],
    ['the issuer with a trailing slash', `${ISSUER}/`],
    ['another server', 'https://other.example'],
  ])('refuses aud = %s (§5.3.2.1: the issuer identifier alone)', async (_name, aud) => {
    expect(await refusedWith(verify(await assertion({ claims: { aud } })))).toBe(audMessage);
  });
});

describe('verifyClientAssertion, oidc profile', () => {
  const verify = (value: string) => verifyClientAssertion(value, keys, context('oidc'));
  const strictMessage = 'client_assertion aud must be the issuer identifier, as a single string';

  it('accepts RS256', async () => {
    await expect(verify(await assertion({ by: rs }))).resolves.toMatchObject({ jti: 'jti-1', exp: NOW + 60 });
  });

  it('accepts aud = the issuer (draft-ietf-oauth-rfc7523bis)', async () => {
    await expect(verify(await assertion({ claims: { aud: ISSUER } }))).resolves.toMatchObject({ jti: 'jti-1' });
  });

  // draft-ietf-oauth-rfc7523bis: only the issuer, as a single string, is safe from audience injection.
  it.each([
    ['the token endpoint URL', TOKEN_ENDPOINT],
    ['the PAR endpoint URL', PAR_ENDPOINT],
    ['an array holding the issuer', ['https://other.example', ISSUER]],
    ['the issuer in an array', [ISSUER]],
    ['an array holding the token endpoint URL', [TOKEN_ENDPOINT]],
    ['another endpoint of the issuer', `${ISSUER}/userinfo`],
    ['the issuer with a trailing slash', `${ISSUER}/`],
    ['another server', 'https://other.example'],
    ['an empty array', []],
    ['a number', 1],
  ])('refuses aud = %s by default', async (_name, aud) => {
    expect(await refusedWith(verify(await assertion({ claims: { aud } })))).toBe(strictMessage);
  });
});

describe('verifyClientAssertion, oidc profile with client_assertion_audience: lenient (unsafe)', () => {
  const verify = (value: string) => verifyClientAssertion(value, keys, context('oidc', 'lenient'));
  const audMessage = 'client_assertion aud must be the issuer identifier or the endpoint URL';

  it.each([
    ['the issuer', ISSUER],
    ['the token endpoint URL', TOKEN_ENDPOINT],
    ['the PAR endpoint URL', PAR_ENDPOINT],
    ['an array holding the issuer', ['https://other.example', ISSUER]],
    ['an array holding the token endpoint URL', [TOKEN_ENDPOINT]],
  ])('accepts aud = %s (RFC 7523 §3 (3))', async (_name, aud) => {
    await expect(verify(await assertion({ claims: { aud } }))).resolves.toMatchObject({ jti: 'jti-1', exp: NOW + 60 });
  });

  it.each([
    ['another endpoint of the issuer', `${ISSUER}/userinfo`],
    ['the issuer with a trailing slash', `${ISSUER}/`],
    ['another server', 'https://other.example'],
    ['an empty array', []],
    ['an array of other audiences', ['https://other.example', `${ISSUER}/userinfo`]],
    ['a number', 1],
  ])('refuses aud = %s', async (_name, aud) => {
    expect(await refusedWith(verify(await assertion({ claims: { aud } })))).toBe(audMessage);
  });
});

describe('verifyClientAssertion, fapi2 profile with client_assertion_audience: lenient', () => {
  it('still requires the issuer alone (FAPI 2.0 §5.3.2.1)', async () => {
    const value = await assertion({ claims: { aud: TOKEN_ENDPOINT } });
    expect(await refusedWith(verifyClientAssertion(value, keys, context('fapi2', 'lenient')))).toBe('client_assertion aud must be the issuer identifier, as a single string');
  });
});
