import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl } from '../support/flow.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let challenge: string;

beforeAll(async () => {
  server = await startServer({
    clients: [
      {
        client_id: 'service-with-redirect',
        client_secret: 'service-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
        grant_types: ['client_credentials'],
        redirect_uris: ['http://127.0.0.1:9/service-with-redirect/callback'],
        scope: 'openid',
      },
    ],
  });
  challenge = await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier());
});
afterAll(async () => {
  await server?.close();
});

/** GETs /auth without following redirects. */
async function auth(params: Record<string, string | undefined>, clientId = 'web-app') {
  const response = await fetch(authorizationUrl(server, clientId, challenge, params), { redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), html: await response.text(), headers: response.headers };
}

function redirectParams(location: string | null) {
  expect(location).not.toBeNull();
  const url = new URL(location!);
  expect(url.origin + url.pathname).toBe(server.callback('web-app'));
  return Object.fromEntries(url.searchParams);
}

describe('/auth: errors shown on a page, never redirected (no open redirect)', () => {
  it.each([
    ['an unknown client_id', { client_id: 'nobody' }, 'client_id is not a registered client'],
    ['a missing client_id', { client_id: undefined }, 'client_id is required'],
    ['a missing redirect_uri', { redirect_uri: undefined }, 'redirect_uri is required'],
    ['an unregistered redirect_uri', { redirect_uri: 'https://attacker.example/cb' }, 'redirect_uri is not registered for this client'],
    ['a redirect_uri with a trailing slash', { redirect_uri: 'http://127.0.0.1:9/web-app/callback/' }, 'redirect_uri is not registered for this client'],
    ['a redirect_uri with an extra query', { redirect_uri: 'http://127.0.0.1:9/web-app/callback?x=1' }, 'redirect_uri is not registered for this client'],
  ])('%s', async (_name, params, description) => {
    const { status, location, html, headers } = await auth(params);
    expect(status).toBe(400);
    expect(location).toBeNull();
    expect(headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain('<code>invalid_request</code> ' + description);
  });

  it('a repeated client_id', async () => {
    const url = authorizationUrl(server, 'web-app', challenge) + '&client_id=web-app';
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('client_id must not be repeated');
  });
});

describe('/auth: errors redirected to the registered redirect_uri with state and iss (RFC 9207)', () => {
  it.each([
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type', 'response_type must be code'],
    ['response_type=code id_token', { response_type: 'code id_token' }, 'unsupported_response_type', 'response_type must be code'],
    ['no response_type', { response_type: undefined }, 'invalid_request', 'response_type is required'],
    ['response_mode=fragment', { response_mode: 'fragment' }, 'invalid_request', 'response_mode must be query'],
    ['no code_challenge', { code_challenge: undefined }, 'invalid_request', 'code_challenge is required (PKCE with S256)'],
    ['code_challenge_method=plain', { code_challenge_method: 'plain' }, 'invalid_request', 'code_challenge_method must be S256'],
    ['no code_challenge_method (plain by default)', { code_challenge_method: undefined }, 'invalid_request', 'code_challenge_method is required and must be S256'],
    ['a malformed code_challenge', { code_challenge: 'short' }, 'invalid_request', 'code_challenge must be 43 base64url characters'],
    ['a scope the client may not ask for', { scope: 'openid admin' }, 'invalid_scope', 'scope not allowed for this client: admin'],
    ['no scope', { scope: undefined }, 'invalid_request', 'scope is required'],
    ['a request object', { request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported', 'the request parameter is not supported'],
    ['prompt=none combined with login', { prompt: 'none login' }, 'invalid_request', 'prompt none must not be combined with other values'],
    ['an unknown prompt', { prompt: 'create' }, 'invalid_request', 'prompt value create is not supported'],
    ['a negative max_age', { max_age: '-1' }, 'invalid_request', 'max_age must be a non-negative integer'],
    ['a nonce over 512 characters', { nonce: 'n'.repeat(513) }, 'invalid_request', 'nonce is longer than 512 characters'],
  ])('%s', async (_name, params, error, description) => {
    const { status, location, headers } = await auth({ state: 'xyz', ...params });
    expect(status).toBe(303);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(redirectParams(location)).toEqual({ error, error_description: description, state: 'xyz', iss: server.issuer });
  });

  it('leaves state out of the error when the request had none', async () => {
    const { location } = await auth({ state: undefined, response_type: 'token' });
    expect(redirectParams(location)).toEqual({ error: 'unsupported_response_type', error_description: 'response_type must be code', iss: server.issuer });
  });

  it('refuses a repeated parameter', async () => {
    const url = authorizationUrl(server, 'web-app', challenge) + '&scope=openid';
    const response = await fetch(url, { redirect: 'manual' });
    expect(redirectParams(response.headers.get('location'))).toMatchObject({ error: 'invalid_request', error_description: 'scope must not be repeated' });
  });

  it('refuses a client registered without the authorization_code grant (unauthorized_client)', async () => {
    const response = await fetch(authorizationUrl(server, 'service-with-redirect', challenge), { redirect: 'manual' });
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location')!);
    expect(Object.fromEntries(location.searchParams)).toEqual({
      error: 'unauthorized_client',
      error_description: 'the client is not allowed to use the authorization_code grant',
      state: 'test-state',
      iss: server.issuer,
    });
  });
});

describe('/auth: a valid request', () => {
  it('starts an interaction with 303 and a bound cookie (GET)', async () => {
    const { status, location, headers } = await auth({ nonce: 'n'.repeat(64) });
    expect(status).toBe(303);
    expect(location).toMatch(/^\/interaction\/[A-Za-z0-9_-]{43}$/);
    const cookie = headers.getSetCookie().find((c) => c.startsWith('trusty_interaction='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toContain(location!.split('/')[2]);
  });

  it('accepts POST with a form body (OIDC Core §3.1.2.1) and answers 303', async () => {
    const query = new URL(authorizationUrl(server, 'web-app', challenge)).searchParams;
    const response = await fetch(server.issuer + '/auth', {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: query.toString(),
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(/^\/interaction\//);
  });

  it('accepts scopes in any order', async () => {
    const { status, location } = await auth({ scope: 'email openid profile' });
    expect(status).toBe(303);
    expect(location).toMatch(/^\/interaction\//);
  });
});
