import { decodeJwt, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, loginThrough } from '../support/browser.js';
import { ASSERTION_TYPE, PUSHED_VERIFIER, clientAssertion, dpopNonce, dpopProof, fapiClient, makeKey, pushRequest, thumbprint, type TestKey } from '../support/fapi.js';
import { postForm } from '../support/flow.js';
import { ALICE, startServer, type TestServer } from '../support/server.js';

/** DPoP (RFC 9449) at /token and /userinfo, for a fapi2 client. */
let server: TestServer;
let bankKey: TestKey;
let dpopKey: TestKey;
let otherDpopKey: TestKey;
let nonce: string;

beforeAll(async () => {
  [bankKey, dpopKey, otherDpopKey] = await Promise.all([makeKey('ES256'), makeKey('ES256'), makeKey('PS256')]);
  server = await startServer({ clients: [fapiClient(undefined, 'bank', bankKey)] });
  nonce = await dpopNonce(server, dpopKey);
});
afterAll(async () => {
  await server?.close();
});

const tokenUrl = () => server.issuer + '/token';
const userinfoUrl = () => server.issuer + '/userinfo';

async function code(form: Record<string, string | undefined> = {}, headers: Record<string, string> = {}): Promise<string> {
  const pushed = await pushRequest(server, 'bank', bankKey, form, headers);
  expect(pushed.status).toBe(201);
  const url = `${server.issuer}/auth?client_id=bank&request_uri=${encodeURIComponent(String(pushed.json.request_uri))}`;
  const callback = new URL(await loginThrough(new Browser(), url, ALICE));
  return callback.searchParams.get('code')!;
}

async function tokenRequest(authorizationCode: string, dpop: string | undefined) {
  return postForm(
    tokenUrl(),
    {
      grant_type: 'authorization_code',
      code: authorizationCode,
      redirect_uri: server.callback('bank'),
      code_verifier: PUSHED_VERIFIER,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await clientAssertion(server, 'bank', bankKey),
    },
    dpop === undefined ? {} : { dpop },
  );
}

function proof(options: Partial<Parameters<typeof dpopProof>[2]> & { key?: TestKey } = {}) {
  return dpopProof(server, options.key ?? dpopKey, { htu: tokenUrl(), nonce, ...options });
}

async function boundToken(): Promise<string> {
  const response = await tokenRequest(await code(), await proof());
  expect(response.status).toBe(200);
  return String(response.json.access_token);
}

function expectDpopError(response: { status: number; json: Record<string, unknown> }, description: string, error = 'invalid_dpop_proof') {
  expect(response.json).toEqual({ error, error_description: description });
  expect(response.status).toBe(400);
}

describe('DPoP at the token endpoint', () => {
  it('binds the access token to the proof key (cnf.jkt, token_type DPoP) and sends a nonce', async () => {
    const response = await tokenRequest(await code(), await proof());
    expect(response.status).toBe(200);
    expect(response.json.token_type).toBe('DPoP');
    expect(decodeJwt(String(response.json.access_token)).cnf).toEqual({ jkt: await thumbprint(dpopKey) });
    expect(response.headers.get('dpop-nonce')).toBe(nonce);
  });

  it('refuses a token request without a proof from a fapi2 client (sender-constrained tokens only)', async () => {
    expectDpopError(await tokenRequest(await code(), undefined), 'a DPoP proof is required: this client only receives sender-constrained tokens');
  });

  it('asks for the server nonce with use_dpop_nonce and a DPoP-Nonce header (RFC 9449 §8)', async () => {
    const response = await tokenRequest(await code(), await proof({ nonce: undefined }));
    expectDpopError(response, 'the DPoP proof must include the server-provided nonce', 'use_dpop_nonce');
    expect(response.headers.get('dpop-nonce')).toBe(nonce);
    expectDpopError(await tokenRequest(await code(), await proof({ nonce: 'stale' })), 'the DPoP proof nonce is invalid or expired', 'use_dpop_nonce');
  });

  it.each([
    ['a wrong htm', () => proof({ htm: 'GET' }), 'the DPoP proof htm does not match the request method'],
    ['a wrong htu', () => proof({ htu: server.issuer + '/par' }), 'the DPoP proof htu does not match the request URL'],
    ['a stale iat', () => proof({ claims: { iat: server.clock.now() - 61 } }), 'the DPoP proof is too old (iat)'],
    ['an iat in the future', () => proof({ claims: { iat: server.clock.now() + 30 } }), 'the DPoP proof iat is in the future'],
    ['no jti', () => proof({ claims: { jti: undefined } }), 'the DPoP proof jti is missing or invalid'],
    ['typ JWT', () => proof({ header: { typ: 'JWT' } }), 'the DPoP proof typ must be dpop+jwt'],
    ['a private key in the jwk', async () => proof({ header: { jwk: await exportJWK(dpopKey.privateKey) } }), 'the DPoP proof jwk must be a public key'],
    ['a jwk of another key than the signer', () => proof({ header: { jwk: (({ kid: _k, use: _u, alg: _a, ...jwk }) => jwk)(otherDpopKey.publicJwk), alg: 'ES256' } }), 'the DPoP proof is not a valid signed JWT with a jwk header'],
    ['not a JWT', async () => 'abc.def.ghi', 'the DPoP proof is not a valid signed JWT with a jwk header'],
  ])('refuses a proof with %s', async (_name, make, description) => {
    expectDpopError(await tokenRequest(await code(), await make()), description);
  });

  it('refuses a replayed proof (jti)', async () => {
    const once = await proof();
    expect((await tokenRequest(await code(), once)).status).toBe(200);
    expectDpopError(await tokenRequest(await code(), once), 'the DPoP proof jti was already used');
  });

  it('refuses a replayed proof at /par, remembered once the client is authenticated', async () => {
    const parProof = await dpopProof(server, dpopKey, { htu: server.issuer + '/par', nonce });
    expect((await pushRequest(server, 'bank', bankKey, {}, { dpop: parProof })).status).toBe(201);
    const replay = await pushRequest(server, 'bank', bankKey, {}, { dpop: parProof });
    expect(replay.json).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof jti was already used' });
  });

  it('does not remember a proof sent with a failed client authentication: the same proof then passes', async () => {
    const once = await proof();
    const forged = await postForm(tokenUrl(), { grant_type: 'authorization_code', code: 'x', client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(server, 'bank', otherDpopKey) }, { dpop: once });
    expect(forged.json.error).toBe('invalid_client');
    expect((await tokenRequest(await code(), once)).status).toBe(200);
  });

  it('refuses two DPoP headers', async () => {
    const response = await fetch(tokenUrl(), {
      method: 'POST',
      headers: [['content-type', 'application/x-www-form-urlencoded'], ['dpop', await proof()], ['dpop', await proof()]],
      body: 'grant_type=authorization_code',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'exactly one DPoP header is allowed' });
  });

  it('accepts a proof whose htu carries a query (compared without it)', async () => {
    expect((await tokenRequest(await code(), await proof({ htu: tokenUrl() + '?x=1' }))).status).toBe(200);
  });

  it('redeems a code bound with dpop_jkt only with that key (RFC 9449 §10)', async () => {
    const bound = await code({ dpop_jkt: await thumbprint(dpopKey) });
    const wrong = await tokenRequest(bound, await proof({ key: otherDpopKey }));
    expect(wrong.status).toBe(400);
    expect(wrong.json).toEqual({ error: 'invalid_grant', error_description: 'the DPoP proof key does not match the key the authorization code is bound to' });
  });

  it('binds the code to the key of a DPoP proof sent to /par (RFC 9449 §10.1)', async () => {
    const parProof = await dpopProof(server, dpopKey, { htu: server.issuer + '/par', nonce });
    const bound = await code({}, { dpop: parProof });
    const wrong = await tokenRequest(bound, await proof({ key: otherDpopKey }));
    expect(wrong.json.error).toBe('invalid_grant');
  });
});

describe('DPoP at /userinfo (RFC 9449 §7)', () => {
  async function userinfo(authorization: string, dpop?: string) {
    const response = await fetch(userinfoUrl(), { headers: { authorization, ...(dpop ? { dpop } : {}) } });
    return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, unknown> };
  }
  const challenge = (error: string, description: string) =>
    `DPoP realm="${server.issuer}", error="${error}", error_description="${description}", algs="ES256 PS256 EdDSA"`;

  it('answers with a proof of the bound key whose ath matches', async () => {
    const token = await boundToken();
    const result = await userinfo(`DPoP ${token}`, await proof({ htm: 'GET', htu: userinfoUrl(), accessToken: token }));
    expect(result.status).toBe(200);
    expect(result.json.sub).toBeTypeOf('string');
  });

  it('refuses a replayed proof, with a DPoP challenge', async () => {
    const token = await boundToken();
    const once = await proof({ htm: 'GET', htu: userinfoUrl(), accessToken: token });
    expect((await userinfo(`DPoP ${token}`, once)).status).toBe(200);
    const replay = await userinfo(`DPoP ${token}`, once);
    expect(replay.status).toBe(401);
    expect(replay.json).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof jti was already used' });
  });

  it.each([
    ['refuses a DPoP-bound token sent as Bearer', (t: string) => userinfo(`Bearer ${t}`), 'invalid_token', 'the access token is DPoP-bound: use the DPoP authorization scheme with a proof'],
    ['requires a proof with the DPoP scheme', (t: string) => userinfo(`DPoP ${t}`), 'invalid_dpop_proof', 'a DPoP proof is required with the DPoP authorization scheme'],
    ['requires ath', async (t: string) => userinfo(`DPoP ${t}`, await proof({ htm: 'GET', htu: userinfoUrl() })), 'invalid_dpop_proof', 'the DPoP proof ath is missing'],
    ['refuses a wrong ath', async (t: string) => userinfo(`DPoP ${t}`, await proof({ htm: 'GET', htu: userinfoUrl(), accessToken: 'other' })), 'invalid_dpop_proof', 'the DPoP proof ath does not match the access token'],
    ['refuses a proof of another key', async (t: string) => userinfo(`DPoP ${t}`, await proof({ key: otherDpopKey, htm: 'GET', htu: userinfoUrl(), accessToken: t })), 'invalid_token', 'the DPoP proof key does not match the key the access token is bound to'],
    ['asks for the nonce', async (t: string) => userinfo(`DPoP ${t}`, await proof({ htm: 'GET', htu: userinfoUrl(), accessToken: t, nonce: undefined })), 'use_dpop_nonce', 'the DPoP proof must include the server-provided nonce'],
  ])('%s, with a DPoP challenge', async (_name, call, error, description) => {
    const result = await call(await boundToken());
    expect(result.status).toBe(401);
    expect(result.json).toEqual({ error, error_description: description });
    expect(result.headers.get('www-authenticate')).toBe(challenge(error, description));
    if (error === 'use_dpop_nonce') expect(result.headers.get('dpop-nonce')).toBe(nonce);
  });
});
