import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, obtainCode, postForm } from '../support/flow.js';
import { WEB_SECRET, startServer, type TestServer } from '../support/server.js';

/** /revoke (RFC 7009) and /introspect (RFC 7662, RFC 9701). */
const SECRET = 'rs-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123';
let server: TestServer;

beforeAll(async () => {
  server = await startServer({
    clients: [
      { client_id: 'api', client_secret: SECRET, grant_types: [], resource_server: true },
      { client_id: 'api-es', client_secret: SECRET, grant_types: [], resource_server: true, introspection_signed_response_alg: 'ES256' },
      { client_id: 'svc', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'invoices:read' },
    ],
  });
});
afterAll(async () => {
  await server?.close();
});

const as = (clientId: string, secret = SECRET) => ({ authorization: basic(clientId, secret) });
const introspect = (token: string, clientId = 'api', extra: Record<string, string> = {}) => postForm(server.issuer + '/introspect', { token, ...extra }, as(clientId));
const revoke = (token: string, headers: Record<string, string>, extra: Record<string, string> = {}) => postForm(server.issuer + '/revoke', { token, ...extra }, headers);

async function serviceToken(): Promise<string> {
  const response = await postForm(server.issuer + '/token', { grant_type: 'client_credentials' }, as('svc'));
  return String(response.json.access_token);
}

async function webAppTokens() {
  const { code, verifier, redirectUri } = await obtainCode(server, 'web-app', { scope: 'openid offline_access' });
  const response = await postForm(server.issuer + '/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri }, as('web-app', WEB_SECRET));
  return { accessToken: String(response.json.access_token), refreshToken: String(response.json.refresh_token) };
}

describe('introspection (RFC 7662)', () => {
  it('describes an active access token to a resource server', async () => {
    const token = await serviceToken();
    const response = await introspect(token);
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

  it.each([
    ['an unknown string', async () => 'x'.repeat(43)],
    ['a JWT signed by someone else', async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const kid = (await exportJWK(publicKey)).x!;
      return new SignJWT({ client_id: 'svc', scope: 'x' }).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).setIssuer(server.issuer).setSubject('svc').setAudience(server.issuer).setIssuedAt().setExpirationTime('5m').setJti('j').sign(privateKey);
    }],
  ])('answers {active:false} for %s', async (_name, make) => {
    expect((await introspect(await make())).json).toEqual({ active: false });
  });

  it('answers {active:false} once the token expired, even after it was introspected (cache)', async () => {
    const token = await serviceToken();
    expect((await introspect(token)).json.active).toBe(true);
    server.clock.advance(601);
    expect((await introspect(token)).json).toEqual({ active: false });
  });

  it('refuses public clients and unauthenticated callers; requires token', async () => {
    const token = await serviceToken();
    const publicClient = await postForm(server.issuer + '/introspect', { token, client_id: 'spa' });
    expect(publicClient.status).toBe(401);
    expect(publicClient.json).toEqual({ error: 'invalid_client', error_description: 'public clients may not use the introspection endpoint' });
    const anonymous = await postForm(server.issuer + '/introspect', { token });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error).toBe('invalid_client');
    const missing = await postForm(server.issuer + '/introspect', {}, as('api'));
    expect(missing.json).toEqual({ error: 'invalid_request', error_description: 'token is required' });
  });

  it('lets a resource_server client introspect and nothing else', async () => {
    const response = await postForm(server.issuer + '/token', { grant_type: 'client_credentials' }, as('api'));
    expect(response.json).toEqual({ error: 'unauthorized_client', error_description: 'the client is not allowed to use the client_credentials grant' });
  });

  it('shows a refresh token only to the client it was issued to', async () => {
    const { refreshToken } = await webAppTokens();
    const own = await postForm(server.issuer + '/introspect', { token: refreshToken, token_type_hint: 'refresh_token' }, as('web-app', WEB_SECRET));
    expect(own.json).toMatchObject({ active: true, client_id: 'web-app', scope: 'openid offline_access' });
    expect(own.json.aud).toBeUndefined();
    expect((await introspect(refreshToken)).json).toEqual({ active: false });
  });
});

describe('signed introspection responses (RFC 9701)', () => {
  it.each([
    ['api', 'RS256'],
    ['api-es', 'ES256'],
  ])('signs for %s with %s', async (clientId, alg) => {
    const token = await serviceToken();
    const json = (await introspect(token, clientId)).json;
    const response = await fetch(server.issuer + '/introspect', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/token-introspection+jwt', ...as(clientId) },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(response.headers.get('content-type')).toBe('application/token-introspection+jwt');
    const jwks = createRemoteJWKSet(new URL(server.issuer + '/.well-known/jwks.json'));
    const { payload, protectedHeader } = await jwtVerify(await response.text(), jwks, { issuer: server.issuer, audience: clientId, typ: 'token-introspection+jwt' });
    expect(protectedHeader.alg).toBe(alg);
    expect(payload.token_introspection).toEqual(json);
  });
});

describe('revocation (RFC 7009)', () => {
  it('revokes an access token at once for introspection and userinfo', async () => {
    const { accessToken } = await webAppTokens();
    expect((await introspect(accessToken)).json.active).toBe(true);
    const response = await revoke(accessToken, as('web-app', WEB_SECRET), { token_type_hint: 'refresh_token' });
    expect(response.status).toBe(200);
    expect((await introspect(accessToken)).json).toEqual({ active: false });
    const userinfo = await fetch(server.issuer + '/userinfo', { headers: { authorization: `Bearer ${accessToken}` } });
    expect(userinfo.status).toBe(401);
    expect(await userinfo.json()).toEqual({ error: 'invalid_token', error_description: 'the access token was revoked' });
  });

  it('revokes a refresh token with its grant: the access tokens go too, and the refresh fails', async () => {
    const { accessToken, refreshToken } = await webAppTokens();
    expect((await revoke(refreshToken, as('web-app', WEB_SECRET))).status).toBe(200);
    expect((await introspect(accessToken)).json).toEqual({ active: false });
    const refresh = await postForm(server.issuer + '/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, as('web-app', WEB_SECRET));
    expect(refresh.json.error).toBe('invalid_grant');
  });

  it("refuses to revoke another client's token, which stays active", async () => {
    const token = await serviceToken();
    const response = await revoke(token, as('web-app', WEB_SECRET));
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ error: 'unauthorized_client', error_description: 'the token was not issued to this client' });
    expect((await introspect(token)).json.active).toBe(true);
  });

  it('answers 200 for an unknown token, and refuses a request without a token or client', async () => {
    expect((await revoke('x'.repeat(43), as('svc'))).status).toBe(200);
    expect((await postForm(server.issuer + '/revoke', {}, as('svc'))).json).toEqual({ error: 'invalid_request', error_description: 'token is required' });
    expect((await postForm(server.issuer + '/revoke', { token: 'x' })).status).toBe(401);
  });
});
