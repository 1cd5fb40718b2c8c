import { calculateJwkThumbprint, createRemoteJWKSet, decodeJwt, exportJWK, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, loginThrough } from '../support/browser.js';
import { fapiClient, makeKey, type TestKey } from '../support/fapi.js';
import { ALICE, startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let es256: TestKey;
let ps256: TestKey;

beforeAll(async () => {
  es256 = await makeKey('ES256');
  ps256 = await makeKey('PS256');
  server = await startServer({ clients: [fapiClient(undefined, 'bank-es256', es256), fapiClient(undefined, 'bank-ps256', ps256)] });
});
afterAll(async () => {
  await server?.close();
});

async function fapiConfig(clientId: string, key: TestKey) {
  return oidc.discovery(new URL(server.issuer), clientId, undefined, oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }), {
    execute: [oidc.allowInsecureRequests],
  });
}

/** PAR (with a DPoP proof) → login → code → DPoP-bound tokens, all through openid-client. */
async function fapiFlow(clientId: string, key: TestKey, params: Record<string, string> = {}) {
  const config = await fapiConfig(clientId, key);
  const dpopKey = await oidc.randomDPoPKeyPair('ES256');
  const dpop = oidc.getDPoPHandle(config, dpopKey);
  const verifier = oidc.randomPKCECodeVerifier();
  const url = await oidc.buildAuthorizationUrlWithPAR(
    config,
    { redirect_uri: server.callback(clientId), scope: 'openid profile email', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...params },
    { DPoP: dpop },
  );
  const browser = new Browser();
  const callback = new URL(await loginThrough(browser, url.href, ALICE));
  const tokens = await oidc.authorizationCodeGrant(
    config,
    callback,
    { pkceCodeVerifier: verifier, expectedState: params.state ?? oidc.skipStateCheck, expectedNonce: params.nonce, idTokenExpected: true },
    undefined,
    { DPoP: dpop },
  );
  return { config, dpop, dpopKey, url, callback, tokens, browser };
}

describe('FAPI 2.0 flow with openid-client: PAR + private_key_jwt + DPoP', () => {
  it.each([
    ['ES256', 'bank-es256'],
    ['PS256', 'bank-ps256'],
  ])('completes login → code → DPoP-bound tokens → userinfo (%s client key)', async (_alg, clientId) => {
    const key = clientId === 'bank-es256' ? es256 : ps256;
    const { config, dpop, dpopKey, url, callback, tokens, browser } = await fapiFlow(clientId, key, { state: 'st', nonce: 'n-0123' });

    // FAPI 2.0 §5.3.2.2: only client_id and request_uri travel through the browser.
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/);
    // RFC 9207 and FAPI 2.0: iss in the response; 303 after the login POST.
    expect(callback.searchParams.get('iss')).toBe(server.issuer);
    expect(callback.searchParams.get('state')).toBe('st');
    expect(browser.redirectStatuses).toEqual([303]); // login POST → callback

    expect(tokens.token_type).toBe('dpop');
    const jkt = await calculateJwkThumbprint(await exportJWK(dpopKey.publicKey), 'sha256');
    const accessToken = decodeJwt(tokens.access_token);
    expect(accessToken.cnf).toEqual({ jkt });
    const jwks = createRemoteJWKSet(new URL(server.issuer + '/.well-known/jwks.json'));
    const { payload: idToken, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, { issuer: server.issuer, audience: clientId });
    expect(protectedHeader.alg).toBe(key.alg);
    expect(idToken.nonce).toBe('n-0123');

    const claims = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub, { DPoP: dpop });
    expect(claims).toMatchObject({ sub: tokens.claims()!.sub, name: 'Alice Martin', email: 'alice@example.com' });
  });

  it.each([
    ['scopes in another order', { scope: 'email openid profile' }],
    ['no state and no nonce', {}],
    ['a 64-character nonce', { nonce: 'n'.repeat(64) }],
  ])('works with %s', async (_name, params: Record<string, string>) => {
    const { tokens } = await fapiFlow('bank-es256', es256, params);
    expect(tokens.token_type).toBe('dpop');
    if (params.nonce) expect(tokens.claims()!.nonce).toBe(params.nonce);
    else expect(tokens.claims()!.nonce).toBeUndefined();
  });
});
