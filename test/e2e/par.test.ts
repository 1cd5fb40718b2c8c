import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, loginThrough } from '../support/browser.js';
import { dpopNonce, dpopProof, fapiClient, makeKey, pushRequest, thumbprint, type TestKey } from '../support/fapi.js';
import { authorizationUrl, basic, postForm } from '../support/flow.js';
import { ALICE, WEB_SECRET, startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let bankKey: TestKey;
let otherKey: TestKey;

beforeAll(async () => {
  bankKey = await makeKey('ES256');
  otherKey = await makeKey('EdDSA');
  server = await startServer({ clients: [fapiClient(undefined, 'bank', bankKey), fapiClient(undefined, 'other-bank', otherKey)] });
});
afterAll(async () => {
  await server?.close();
});

function authWith(clientId: string, requestUri: string, extra: Record<string, string> = {}) {
  const url = new URL(server.issuer + '/auth');
  url.search = new URLSearchParams({ client_id: clientId, request_uri: requestUri, ...extra }).toString();
  return url.href;
}

async function errorPage(url: string) {
  const response = await fetch(url, { redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), html: await response.text() };
}

async function pushed(form: Record<string, string | undefined> = {}) {
  const response = await pushRequest(server, 'bank', bankKey, form);
  expect(response.status).toBe(201);
  return String(response.json.request_uri);
}

describe('/par (RFC 9126)', () => {
  it('answers 201 with a request_uri of 256 random bits and expires_in, never cached', async () => {
    const response = await pushRequest(server, 'bank', bankKey);
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.json.expires_in).toBe(60);
    expect(response.json.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/);
  });

  it.each([
    ['a request_uri (RFC 9126 §2.1)', { request_uri: 'urn:ietf:params:oauth:request_uri:abc' }, 'invalid_request', 'request_uri must not be sent to the pushed authorization request endpoint'],
    ['no redirect_uri (FAPI 2.0 §5.3.2.2)', { redirect_uri: undefined }, 'invalid_request', 'redirect_uri is required'],
    ['an unregistered redirect_uri', { redirect_uri: 'http://127.0.0.1:9/evil' }, 'invalid_request', 'redirect_uri is not registered for this client'],
    ['no PKCE', { code_challenge: undefined }, 'invalid_request', 'code_challenge is required (PKCE with S256)'],
    ['PKCE plain', { code_challenge_method: 'plain' }, 'invalid_request', 'code_challenge_method must be S256'],
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type', 'response_type must be code'],
    ['response_mode=fragment', { response_mode: 'fragment' }, 'invalid_request', 'response_mode must be query'],
    ['a scope the client may not ask for', { scope: 'openid admin' }, 'invalid_scope', 'scope not allowed for this client: admin'],
    ["another client's client_id", { client_id: 'other-bank' }, 'invalid_client', 'client_id does not match the client_assertion iss'],
    ['a malformed dpop_jkt', { dpop_jkt: 'abc' }, 'invalid_request', 'dpop_jkt must be a base64url SHA-256 JWK thumbprint'],
  ])('refuses %s with a JSON error', async (_name, form, error, description) => {
    const response = await pushRequest(server, 'bank', bankKey, form);
    expect(response.json).toEqual({ error, error_description: description });
    expect(response.status).toBe(error === 'invalid_client' ? 401 : 400);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses client_secret authentication from a fapi2 client', async () => {
    const response = await pushRequest(server, 'bank', bankKey, { client_assertion: undefined, client_assertion_type: undefined, client_secret: 'guess-0123456789-0123456789-0123456789' });
    expect(response.status).toBe(401);
    expect(response.json).toEqual({ error: 'invalid_client', error_description: 'the client must authenticate with private_key_jwt' });
  });

  it('refuses an unauthenticated push', async () => {
    const response = await pushRequest(server, 'bank', bankKey, { client_assertion: undefined, client_assertion_type: undefined });
    expect(response.status).toBe(401);
    expect(response.json).toEqual({ error: 'invalid_client', error_description: 'the client must authenticate with private_key_jwt' });
  });

  it('lets a confidential oidc client push too, with client_secret_basic', async () => {
    const response = await postForm(
      server.issuer + '/par',
      { response_type: 'code', redirect_uri: server.callback('web-app'), scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' },
      { authorization: basic('web-app', WEB_SECRET) },
    );
    expect(response.status).toBe(201);
    const browser = new Browser();
    const callback = new URL(await loginThrough(browser, authWith('web-app', String(response.json.request_uri)), ALICE));
    expect(callback.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('rejects a DPoP proof whose key differs from dpop_jkt (RFC 9449 §10.1)', async () => {
    const dpopKey = await makeKey('ES256');
    const nonce = await dpopNonce(server, dpopKey);
    const proof = await dpopProof(server, dpopKey, { htu: server.issuer + '/par', nonce });
    const response = await pushRequest(server, 'bank', bankKey, { dpop_jkt: await thumbprint(otherKey) }, { dpop: proof });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ error: 'invalid_dpop_proof', error_description: 'dpop_jkt does not match the key of the DPoP proof' });
  });
});

describe('/auth with a pushed request (RFC 9126 §4, FAPI 2.0 §5.3.2.2)', () => {
  it('refuses a fapi2 client that does not push, redirecting with the error', async () => {
    const { status, location } = await errorPage(authorizationUrl(server, 'bank', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', { state: 's1' }));
    expect(status).toBe(303);
    const params = Object.fromEntries(new URL(location!).searchParams);
    expect(params).toEqual({ error: 'invalid_request', error_description: 'this client must use a pushed authorization request (PAR)', state: 's1', iss: server.issuer });
  });

  it('ignores parameters beside client_id and request_uri for a fapi2 client (RFC 9126 §4, RFC 9101 §5)', async () => {
    const requestUri = await pushed();
    const callback = new URL(await loginThrough(new Browser(), authWith('bank', requestUri, { scope: 'openid profile', state: 'other' }), ALICE));
    expect(callback.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(callback.searchParams.get('state')).toBe('fapi-state');
    const again = await errorPage(authWith('bank', requestUri));
    expect(again.status).toBe(400);
  });

  it('can be reloaded before the authorization completes, and not after', async () => {
    const requestUri = await pushed();
    const first = await fetch(authWith('bank', requestUri), { redirect: 'manual' });
    const reload = await fetch(authWith('bank', requestUri), { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(reload.status).toBe(303);
    expect(reload.headers.get('location')).toContain('/interaction/');

    const callback = new URL(await loginThrough(new Browser(), authWith('bank', requestUri), ALICE));
    expect(callback.searchParams.get('code')).not.toBeNull();
    const reuse = await errorPage(authWith('bank', requestUri));
    expect(reuse.status).toBe(400);
    expect(reuse.location).toBeNull();
    expect(reuse.html).toContain('request_uri is invalid, expired or already used');
  });

  it.each([
    ['an unknown request_uri', () => authWith('bank', 'urn:ietf:params:oauth:request_uri:unknown'), 'request_uri is invalid, expired or already used'],
    ['a request_uri of another scheme', () => authWith('bank', 'https://example.com/request'), 'request_uri is invalid, expired or already used'],
  ])('shows an error page (no redirect) for %s', async (_name, url, description) => {
    const page = await errorPage(url());
    expect(page.status).toBe(400);
    expect(page.location).toBeNull();
    expect(page.html).toContain('invalid_request_uri');
    expect(page.html).toContain(description);
  });

  it("refuses another client's request_uri", async () => {
    const requestUri = await pushed();
    const page = await errorPage(authWith('other-bank', requestUri));
    expect(page.status).toBe(400);
    expect(page.html).toContain('request_uri was not pushed by this client');
  });

  it('refuses an expired request_uri', async () => {
    const requestUri = await pushed();
    server.clock.advance(61);
    const page = await errorPage(authWith('bank', requestUri));
    expect(page.status).toBe(400);
    expect(page.html).toContain('request_uri is invalid, expired or already used');
  });
});
