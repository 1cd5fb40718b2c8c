import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dpopNonce, dpopProof, makeKey, thumbprint, type TestKey } from '../support/fapi.js';
import { basic, obtainCode, postForm } from '../support/flow.js';
import { WEB_SECRET, startServer, type TestServer } from '../support/server.js';

/** /revoke (RFC 7009) and /introspect (RFC 7662, RFC 9701). */
const SECRET = 'rs-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123';
/** RFC 8707 resources the service client may ask tokens for. */
const API = 'https://api.example.com/';
const OTHER_API = 'https://other.example.com/';
/** A client whose client_id is also a resource (an absolute URI): it is in the aud of tokens for it. */
const URN_RS = 'urn:example:rs';
let server: TestServer;
let jwks: JWTVerifyGetKey;
let dpopKey: TestKey;

beforeAll(async () => {
  dpopKey = await makeKey('ES256');
  server = await startServer({
    clients: (issuer: string) => [
      // Resource servers: confidential, introspection only, each allowed to see tokens for some audiences.
      { client_id: 'api', client_secret: SECRET, grant_types: [], resource_server: true, introspection_audiences: [issuer, API] },
      { client_id: 'api-es', client_secret: SECRET, grant_types: [], resource_server: true, introspection_signed_response_alg: 'ES256', introspection_audiences: [issuer] },
      { client_id: 'other-api', client_secret: SECRET, grant_types: [], resource_server: true, introspection_audiences: [OTHER_API] },
      { client_id: 'no-audience', client_secret: SECRET, grant_types: [], resource_server: true },
      { client_id: URN_RS, client_secret: SECRET, grant_types: [], resource_server: true },
      { client_id: 'svc', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'invoices:read', resources: [API, OTHER_API, URN_RS] },
      { client_id: 'svc2', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'invoices:read' },
    ],
  });
  jwks = createRemoteJWKSet(new URL(server.issuer + '/.well-known/jwks.json'));
});
afterAll(async () => {
  await server?.close();
});

type Answer = Awaited<ReturnType<typeof postForm>>;
const as = (clientId: string, secret = SECRET) => ({ authorization: basic(clientId, secret) });
const asWebApp = () => as('web-app', WEB_SECRET);
const introspect = (token: string, headers = as('api'), extra: Record<string, string> = {}) => postForm(server.issuer + '/introspect', { token, ...extra }, headers);
const revoke = (token: string, headers: Record<string, string>, extra: Record<string, string> = {}) => postForm(server.issuer + '/revoke', { token, ...extra }, headers);

function expectError(response: Answer, status: number, error: string, description: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.json).toEqual({ error, error_description: description });
}

async function serviceToken(headers: Record<string, string> = {}, resources: string[] = []): Promise<string> {
  const form: Array<[string, string]> = [['grant_type', 'client_credentials'], ...resources.map((r): [string, string] => ['resource', r])];
  const response = await postForm(server.issuer + '/token', form, { ...as('svc'), ...headers });
  expect(response.status).toBe(200);
  return String(response.json.access_token);
}

/** A client_credentials token bound to dpopKey (RFC 9449 §5: an oidc client may ask for one). */
async function boundServiceToken(): Promise<string> {
  const nonce = await dpopNonce(server, dpopKey);
  return serviceToken({ dpop: await dpopProof(server, dpopKey, { htu: server.issuer + '/token', nonce }) });
}

/** alice's tokens for web-app, with a refresh token (offline_access). */
async function webAppTokens() {
  const { code, verifier, redirectUri } = await obtainCode(server, 'web-app', { scope: 'openid offline_access' });
  const response = await postForm(server.issuer + '/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri }, asWebApp());
  expect(response.status).toBe(200);
  return { accessToken: String(response.json.access_token), refreshToken: String(response.json.refresh_token) };
}

async function foreignJwt(): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = (await exportJWK(publicKey)).x!;
  return new SignJWT({ client_id: 'svc', scope: 'invoices:read' })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
    .setIssuer(server.issuer)
    .setSubject('svc')
    .setAudience(server.issuer)
    .setIssuedAt(server.clock.now())
    .setExpirationTime(server.clock.now() + 300)
    .setJti('foreign')
    .sign(privateKey);
}

describe('introspection (RFC 7662)', () => {
  it.each([
    ['a resource server allowed for its audience', () => as('api')],
    ['the client it was issued to', () => as('svc')],
  ])('describes an active Bearer access token to %s (§2.2)', async (_name, headers) => {
    const response = await introspect(await serviceToken(), headers());
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.json).toEqual({
      active: true,
      iss: server.issuer,
      client_id: 'svc',
      sub: 'svc',
      aud: server.issuer,
      scope: 'invoices:read',
      exp: expect.any(Number),
      iat: expect.any(Number),
      jti: expect.any(String),
      token_type: 'Bearer',
    });
  });

  it('describes a DPoP-bound access token with token_type DPoP and cnf.jkt (RFC 9449 §6.2)', async () => {
    const response = await introspect(await boundServiceToken());
    expect(response.json).toMatchObject({ active: true, client_id: 'svc', token_type: 'DPoP', cnf: { jkt: await thumbprint(dpopKey) } });
  });

  // RFC 7662 §4: the server determines whether the caller may see the token; §2.2 lets it say inactive.
  it.each([
    ['another confidential client', 'web-app', WEB_SECRET],
    ['another client_credentials client', 'svc2', SECRET],
    ['a resource server allowed for other audiences', 'other-api', SECRET],
    ['a resource server allowed for no audience', 'no-audience', SECRET],
  ])('answers {active:false} to %s for a token of the issuer audience (§4)', async (_name, clientId, secret) => {
    const response = await introspect(await serviceToken(), as(clientId, secret));
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ active: false });
  });

  it('shows a resource-bound token only to its audience, its client and the resource servers allowed for that audience', async () => {
    const forApi = await serviceToken({}, [API]);
    const active = async (clientId: string, secret = SECRET) => (await introspect(forApi, as(clientId, secret))).json.active;
    expect(await active('api')).toBe(true);
    expect(await active('svc')).toBe(true);
    expect(await active('api-es')).toBe(false); // allowed for the issuer only
    expect(await active('other-api')).toBe(false);
    expect(await active('web-app', WEB_SECRET)).toBe(false);
    const forBoth = await serviceToken({}, [API, OTHER_API]);
    expect((await introspect(forBoth, as('other-api'))).json).toMatchObject({ active: true, aud: [API, OTHER_API] });
  });

  it('shows a token to a client named in its aud', async () => {
    const token = await serviceToken({}, [URN_RS]);
    expect((await introspect(token, as(URN_RS))).json).toMatchObject({ active: true, aud: [URN_RS] });
    expect((await introspect(await serviceToken(), as(URN_RS))).json).toEqual({ active: false });
  });

  it.each([
    ['an unknown string', async () => 'x'.repeat(43)],
    ['a JWT signed by someone else', foreignJwt],
  ])('answers {active:false} for %s', async (_name, make) => {
    const response = await introspect(await make());
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ active: false });
  });

  it('refuses public clients and unauthenticated callers; requires token', async () => {
    const token = await serviceToken();
    expectError(await postForm(server.issuer + '/introspect', { token, client_id: 'spa' }), 401, 'invalid_client', 'public clients may not use the introspection endpoint');
    expectError(await postForm(server.issuer + '/introspect', { token }), 401, 'invalid_client', 'client authentication is required (client_id missing)');
    const wrongSecret = await introspect(token, as('api', 'not-the-secret'));
    expectError(wrongSecret, 401, 'invalid_client', 'client authentication failed');
    expect(wrongSecret.headers.get('www-authenticate')).toBe(`Basic realm="${server.issuer}"`);
    expectError(await postForm(server.issuer + '/introspect', {}, as('api')), 400, 'invalid_request', 'token is required');
  });

  it.each([
    ['client_credentials', {}],
    ['authorization_code', { code: 'c'.repeat(43), code_verifier: 'v'.repeat(43), redirect_uri: 'http://127.0.0.1:9/api/callback' }],
    ['refresh_token', { refresh_token: 'r'.repeat(43) }],
  ])('refuses a resource_server client the %s grant', async (grantType, form) => {
    const response = await postForm(server.issuer + '/token', { grant_type: grantType, ...form }, as('api'));
    expectError(response, 400, 'unauthorized_client', `the client is not allowed to use the ${grantType} grant`);
  });

  it('shows a refresh token only to the client it was issued to, whatever the hint', async () => {
    const { refreshToken } = await webAppTokens();
    for (const hint of ['refresh_token', 'access_token']) {
      const own = await introspect(refreshToken, asWebApp(), { token_type_hint: hint });
      expect(own.json).toEqual({ active: true, iss: server.issuer, client_id: 'web-app', sub: expect.any(String), scope: 'openid offline_access', iat: expect.any(Number), exp: expect.any(Number) });
    }
    expect((await introspect(refreshToken)).json).toEqual({ active: false });
    expect((await introspect(refreshToken, as('svc'))).json).toEqual({ active: false });
  });

  // Last in its describe: it moves the server clock past every token issued so far (later tests issue fresh ones).
  it('answers {active:false} once the token expired, even after it was introspected (cache)', async () => {
    const token = await serviceToken();
    expect((await introspect(token)).json.active).toBe(true);
    server.clock.advance(601);
    expect((await introspect(token)).json).toEqual({ active: false });
  });
});

describe('signed introspection responses (RFC 9701)', () => {
  const signed = (token: string, clientId: string) =>
    fetch(server.issuer + '/introspect', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/token-introspection+jwt', ...as(clientId) },
      body: new URLSearchParams({ token }).toString(),
    });

  it.each([
    ['api', 'RS256', 'RS256 by default (§6)'],
    ['api-es', 'ES256', 'its introspection_signed_response_alg'],
  ])('signs for %s with %s: %s', async (clientId, alg) => {
    for (const token of [await serviceToken(), await boundServiceToken()]) {
      const json = (await introspect(token, as(clientId))).json;
      const response = await signed(token, clientId);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/token-introspection+jwt');
      expect(response.headers.get('cache-control')).toBe('no-store');
      const { payload, protectedHeader } = await jwtVerify(await response.text(), jwks, { issuer: server.issuer, audience: clientId, typ: 'token-introspection+jwt' });
      expect(protectedHeader.alg).toBe(alg);
      expect(payload).toEqual({ iss: server.issuer, aud: clientId, iat: expect.any(Number), token_introspection: json });
      expect(payload.token_introspection).toMatchObject({ active: true });
    }
  });

  it('signs {active:false} for a caller that may not see the token (RFC 7662 §4)', async () => {
    const response = await signed(await serviceToken(), 'other-api');
    expect(response.status).toBe(200);
    const { payload } = await jwtVerify(await response.text(), jwks, { issuer: server.issuer, audience: 'other-api', typ: 'token-introspection+jwt' });
    expect(payload.token_introspection).toEqual({ active: false });
  });

  it('signs an inactive answer too', async () => {
    const response = await signed('x'.repeat(43), 'api');
    const { payload } = await jwtVerify(await response.text(), jwks, { issuer: server.issuer, audience: 'api', typ: 'token-introspection+jwt' });
    expect(payload.token_introspection).toEqual({ active: false });
  });
});

describe('resource_server clients may call /introspect and nothing else', () => {
  const ONLY_INTROSPECTION = 'a resource_server client may only use the introspection endpoint';

  it('refuses /revoke with unauthorized_client, and the token stays active', async () => {
    const token = await serviceToken();
    expectError(await revoke(token, as('api')), 400, 'unauthorized_client', ONLY_INTROSPECTION);
    expectError(await revoke('x'.repeat(43), as('api')), 400, 'unauthorized_client', ONLY_INTROSPECTION);
    expect((await introspect(token)).json.active).toBe(true);
  });

  it('refuses /par with unauthorized_client', async () => {
    const response = await postForm(
      server.issuer + '/par',
      { response_type: 'code', scope: 'openid', redirect_uri: 'http://127.0.0.1:9/api/callback', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' },
      as('api'),
    );
    expectError(response, 400, 'unauthorized_client', ONLY_INTROSPECTION);
  });

  it.each([
    ['/auth', () => `/auth?client_id=api&redirect_uri=${encodeURIComponent('http://127.0.0.1:9/api/callback')}&response_type=code&scope=openid`],
    ['/logout', () => '/logout?client_id=api'],
  ])('refuses %s with an unauthorized_client page', async (_path, url) => {
    const response = await fetch(server.issuer + url(), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain(`<code>unauthorized_client</code> ${ONLY_INTROSPECTION}`);
  });
});

describe('revocation (RFC 7009)', () => {
  it('revokes an access token at once for introspection and userinfo, despite a wrong token_type_hint', async () => {
    const { accessToken } = await webAppTokens();
    expect((await introspect(accessToken)).json.active).toBe(true);
    const response = await revoke(accessToken, asWebApp(), { token_type_hint: 'refresh_token' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.json).toEqual({ raw: '' }); // an empty body
    expect((await introspect(accessToken)).json).toEqual({ active: false });
    const userinfo = await fetch(server.issuer + '/userinfo', { headers: { authorization: `Bearer ${accessToken}` } });
    expect(userinfo.status).toBe(401);
    expect(await userinfo.json()).toEqual({ error: 'invalid_token', error_description: 'the access token was revoked' });
    // §2.2: revoking an already revoked token is not an error.
    expect((await revoke(accessToken, asWebApp())).status).toBe(200);
  });

  it('revokes a client_credentials token with the right hint', async () => {
    const token = await serviceToken();
    expect((await revoke(token, as('svc'), { token_type_hint: 'access_token' })).status).toBe(200);
    expect((await introspect(token)).json).toEqual({ active: false });
  });

  it('revokes a refresh token with its grant: the access tokens go too, and the refresh fails', async () => {
    const { accessToken, refreshToken } = await webAppTokens();
    expect((await revoke(refreshToken, asWebApp())).status).toBe(200);
    expect((await introspect(refreshToken, asWebApp())).json).toEqual({ active: false });
    expect((await introspect(accessToken)).json).toEqual({ active: false });
    const refresh = await postForm(server.issuer + '/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, asWebApp());
    expectError(refresh, 400, 'invalid_grant', 'the refresh token was revoked');
  });

  it("refuses to revoke another client's tokens, which stay active", async () => {
    const token = await serviceToken();
    expectError(await revoke(token, asWebApp()), 400, 'unauthorized_client', 'the token was not issued to this client');
    expect((await introspect(token)).json.active).toBe(true);
    const { refreshToken } = await webAppTokens();
    expectError(await revoke(refreshToken, as('svc')), 400, 'unauthorized_client', 'the token was not issued to this client');
    expect((await introspect(refreshToken, asWebApp())).json.active).toBe(true);
  });

  it('answers 200 for an unknown token (§2.2), and refuses a request without a token or client', async () => {
    const unknown = await revoke('x'.repeat(43), as('svc'));
    expect(unknown.status).toBe(200);
    expect(unknown.headers.get('cache-control')).toBe('no-store');
    expect((await revoke(await foreignJwt(), as('svc'))).status).toBe(200);
    expectError(await postForm(server.issuer + '/revoke', {}, as('svc')), 400, 'invalid_request', 'token is required');
    expectError(await revoke('x', {}), 401, 'invalid_client', 'client authentication is required (client_id missing)');
  });
});
