import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, loginThrough, parseForm } from '../support/browser.js';
import { fapiClient, makeKey, thumbprint, type TestKey } from '../support/fapi.js';
import { basic, postForm } from '../support/flow.js';
import { ALICE, WEB_SECRET, startServer, type TestServer } from '../support/server.js';

/**
 * RFC 9101 §5 (applied to PAR by RFC 9126 §4): with request_uri, the pushed parameters are used
 * and those in the query are ignored. OIDC Core §6.1–6.2 make clients repeat response_type and
 * scope in the query; most PAR clients and the conformance suite's FAPI 2.0 plan repeat more.
 * Whatever the query says, the code goes to the pushed redirect_uri with the pushed state, and
 * the ID token carries the pushed nonce.
 */
let server: TestServer;
let bankKey: TestKey;
let strangerKey: TestKey;

beforeAll(async () => {
  bankKey = await makeKey('ES256');
  strangerKey = await makeKey('ES256');
  server = await startServer({
    clients: [
      fapiClient(undefined, 'bank', bankKey, { redirect_uris: ['http://127.0.0.1:9/bank/callback', 'http://127.0.0.1:9/bank/other'] }),
      {
        client_id: 'two-uris',
        client_secret: WEB_SECRET,
        redirect_uris: ['http://127.0.0.1:9/two-uris/callback', 'http://127.0.0.1:9/two-uris/other'],
        scope: 'openid profile email',
        require_consent: false,
      },
    ],
  });
});
afterAll(async () => {
  await server?.close();
});

/** What a suite module adds to the query beside client_id and request_uri, all differing from the pushed values. */
async function hostileQuery(clientId: string): Promise<Array<[string, string]>> {
  return [
    ['response_type', 'code'],
    ['scope', 'openid email'],
    ['scope', 'openid profile email'], // repeated: must not matter either
    ['redirect_uri', `http://127.0.0.1:9/${clientId}/other`],
    ['state', 'query-state'],
    ['nonce', 'query-nonce'],
    ['prompt', 'none'], // would answer login_required if it were used
    ['max_age', '0'],
    ['login_hint', 'bob'],
    ['ui_locales', 'fr'],
    ['dpop_jkt', await thumbprint(strangerKey)], // would bind the code to a key the client lacks
    ['code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'],
    ['code_challenge_method', 'S256'],
    ['response_mode', 'fragment'],
  ];
}

function withQuery(url: URL, pairs: Array<[string, string]>): string {
  const copy = new URL(url.href);
  for (const [name, value] of pairs) copy.searchParams.append(name, value);
  return copy.href;
}

/** PAR through openid-client, then the browser at /auth with `extra` in the query; the code exchanged with the pushed state and nonce. */
async function flow(config: oidc.Configuration, clientId: string, extra: Array<[string, string]>, dpop?: oidc.DPoPHandle) {
  const verifier = oidc.randomPKCECodeVerifier();
  const pushed = { state: 'pushed-state', nonce: 'pushed-nonce' };
  const url = await oidc.buildAuthorizationUrlWithPAR(
    config,
    {
      redirect_uri: `http://127.0.0.1:9/${clientId}/callback`,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...pushed,
    },
    dpop ? { DPoP: dpop } : undefined,
  );
  expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
  const browser = new Browser();
  const first = await browser.get(withQuery(url, extra));
  // The login page in English with no username filled in: ui_locales and login_hint of the query were not used.
  expect(first.status).toBe(200);
  expect(first.html).toContain('name="password"');
  expect(first.html).toContain('<html lang="en"');
  expect(first.html).not.toContain('value="bob"');
  const done = await browser.submit(first, parseForm(first.html), ALICE);
  expect(done.status).toBe(0);
  const callback = new URL(done.url);
  expect(callback.origin + callback.pathname).toBe(`http://127.0.0.1:9/${clientId}/callback`);
  expect(callback.searchParams.get('state')).toBe('pushed-state');
  const tokens = await oidc.authorizationCodeGrant(
    config,
    callback,
    { pkceCodeVerifier: verifier, expectedState: pushed.state, expectedNonce: pushed.nonce, idTokenExpected: true },
    undefined,
    dpop ? { DPoP: dpop } : undefined,
  );
  expect(tokens.claims()!.nonce).toBe('pushed-nonce');
  expect(tokens.scope?.split(' ').sort()).toEqual(['openid', 'profile']);
  return { tokens, url, callback };
}

/** A plain push by the oidc client two-uris (client_secret_basic). */
function pushTwoUris() {
  const form = { redirect_uri: 'http://127.0.0.1:9/two-uris/callback', response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };
  return postForm(server.issuer + '/par', form, { authorization: basic('two-uris', WEB_SECRET) });
}

describe('/auth with request_uri and parameters repeated in the query (RFC 9126 §4, RFC 9101 §5)', () => {
  it('uses the pushed request only, for a fapi2 client (private_key_jwt + DPoP)', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'bank', undefined, oidc.PrivateKeyJwt({ key: bankKey.privateKey, kid: bankKey.kid }), {
      execute: [oidc.allowInsecureRequests],
    });
    const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const { tokens } = await flow(config, 'bank', await hostileQuery('bank'), dpop);
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.id_token!).aud).toBe('bank');
  });

  it('uses the pushed request only, for an oidc client (client_secret_basic)', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'two-uris', undefined, oidc.ClientSecretBasic(WEB_SECRET), {
      execute: [oidc.allowInsecureRequests],
    });
    const { tokens } = await flow(config, 'two-uris', await hostileQuery('two-uris'));
    expect(tokens.token_type).toBe('bearer');
  });

  it('accepts what the conformance suite sends for an oidc profile: response_type, scope and redirect_uri equal to the pushed ones', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'bank', undefined, oidc.PrivateKeyJwt({ key: bankKey.privateKey, kid: bankKey.kid }), {
      execute: [oidc.allowInsecureRequests],
    });
    const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    await flow(config, 'bank', [['response_type', 'code'], ['scope', 'openid profile'], ['redirect_uri', 'http://127.0.0.1:9/bank/callback']], dpop);
  });

  it('ignores the query at POST /auth too (the form twin)', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'two-uris', undefined, oidc.ClientSecretBasic(WEB_SECRET), {
      execute: [oidc.allowInsecureRequests],
    });
    const url = await oidc.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: 'http://127.0.0.1:9/two-uris/callback',
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge('b'.repeat(43)),
      code_challenge_method: 'S256',
      state: 'pushed-state',
      prompt: 'none',
    });
    const form: Array<[string, string]> = [...url.searchParams, ['state', 'query-state'], ['prompt', 'login'], ['redirect_uri', 'http://127.0.0.1:9/two-uris/other']];
    const response = await fetch(server.issuer + '/auth', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
    // The pushed prompt=none is used (no session: login_required), with the pushed state, to the pushed redirect_uri.
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin + location.pathname).toBe('http://127.0.0.1:9/two-uris/callback');
    expect(Object.fromEntries(location.searchParams)).toEqual({
      error: 'login_required',
      error_description: 'the user is not logged in',
      state: 'pushed-state',
      iss: server.issuer,
    });
  });

  it.each([
    ['client_id', [['client_id', 'bank']]],
    ['request_uri', [['request_uri', 'urn:ietf:params:oauth:request_uri:x']]],
  ] as Array<[string, Array<[string, string]>]>)('still refuses a repeated %s, on a page', async (name, repeat) => {
    const response = await pushTwoUris();
    expect(response.status).toBe(201);
    const url = new URL(server.issuer + '/auth');
    url.searchParams.append('client_id', 'two-uris');
    url.searchParams.append('request_uri', String(response.json.request_uri));
    for (const [k, v] of repeat) url.searchParams.append(k, v);
    const page = await fetch(url, { redirect: 'manual' });
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
    expect(await page.text()).toContain(`${name} must not be repeated`);
  });

  it('still refuses a query client_id other than the pushing client', async () => {
    const response = await pushTwoUris();
    const url = new URL(server.issuer + '/auth');
    url.search = new URLSearchParams({ client_id: 'web-app', request_uri: String(response.json.request_uri), redirect_uri: 'http://127.0.0.1:9/web-app/callback' }).toString();
    const page = await fetch(url, { redirect: 'manual' });
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
    expect(await page.text()).toContain('request_uri was not pushed by this client');
  });

  it('spends the request_uri when the user denies consent, extra query parameters or not', async () => {
    // spa asks for consent every time; a public client may push too (RFC 9126 §2).
    const response = await postForm(server.issuer + '/par', {
      client_id: 'spa',
      redirect_uri: server.callback('spa'),
      response_type: 'code',
      scope: 'openid profile',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 'pushed-state',
    });
    expect(response.status).toBe(201);
    const url = new URL(server.issuer + '/auth');
    url.search = new URLSearchParams({ client_id: 'spa', request_uri: String(response.json.request_uri), response_type: 'code', scope: 'openid', state: 'query-state' }).toString();
    const callback = new URL(await loginThrough(new Browser(), url.href, ALICE, 'deny'));
    expect(Object.fromEntries(callback.searchParams)).toEqual({ error: 'access_denied', error_description: 'the user denied the request', state: 'pushed-state', iss: server.issuer });
    const again = await fetch(url, { redirect: 'manual' });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('request_uri is invalid, expired or already used');
  });
});
