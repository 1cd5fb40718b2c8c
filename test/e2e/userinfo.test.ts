import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, obtainCode, postForm } from '../support/flow.js';
import { WEB_SECRET, startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let userinfoUrl: string;

beforeAll(async () => {
  server = await startServer();
  userinfoUrl = server.issuer + '/userinfo';
});
afterAll(async () => {
  await server?.close();
});

async function tokensFor(scope: string) {
  const code = await obtainCode(server, 'web-app', { scope });
  const result = await postForm(
    server.issuer + '/token',
    { grant_type: 'authorization_code', code: code.code, code_verifier: code.verifier, redirect_uri: code.redirectUri },
    { authorization: basic('web-app', WEB_SECRET) },
  );
  expect(result.status).toBe(200);
  return result.json as { access_token: string; id_token?: string; scope: string };
}

async function userinfo(authorization: string | undefined, init: { method?: string; query?: string } = {}) {
  const response = await fetch(userinfoUrl + (init.query ?? ''), {
    method: init.method ?? 'GET',
    headers: authorization === undefined ? {} : { authorization },
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

describe('/userinfo (OIDC Core §5.3, RFC 6750)', () => {
  it('answers GET and POST with the claims of the granted scopes, no-store', async () => {
    const { access_token } = await tokensFor('openid email');
    for (const method of ['GET', 'POST']) {
      const result = await userinfo(`Bearer ${access_token}`, { method });
      expect(result.status).toBe(200);
      expect(result.headers.get('cache-control')).toBe('no-store');
      expect(Object.keys(result.json).sort()).toEqual(['email', 'email_verified', 'sub']);
    }
  });

  it('asks for a token without an error code when none is sent (RFC 6750 §3.1)', async () => {
    const result = await userinfo(undefined);
    expect(result.status).toBe(401);
    // RFC 9449 §7.1: both schemes are offered.
    expect(result.headers.get('www-authenticate')).toBe(`Bearer realm="${server.issuer}", DPoP algs="ES256 PS256 EdDSA"`);
    expect(result.json).toEqual({ error: 'invalid_request', error_description: 'an access token is required in the Authorization header' });
  });

  it('refuses a token in the query string', async () => {
    const { access_token } = await tokensFor('openid');
    const result = await userinfo(undefined, { query: `?access_token=${access_token}` });
    expect(result.status).toBe(400);
    expect(result.json).toEqual({ error: 'invalid_request', error_description: 'access tokens are not accepted in the query; use the Authorization header' });
  });

  it.each([
    ['a malformed header', 'Bearer', 'the Authorization header must be Bearer <access token> or DPoP <access token>'],
    ['another scheme', 'Basic abc', 'the Authorization header must be Bearer <access token> or DPoP <access token>'],
    ['a token that is not a JWT', 'Bearer abc.def', 'the access token is malformed'],
    ['a token of unknown origin', 'Bearer eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vcGUifQ.e30.sig', 'the access token was not issued by this server'],
  ])('answers 401 invalid_token with a Bearer challenge for %s', async (_name, header, description) => {
    const result = await userinfo(header);
    expect(result.status).toBe(401);
    expect(result.json).toEqual({ error: 'invalid_token', error_description: description });
    expect(result.headers.get('www-authenticate')).toBe(`Bearer realm="${server.issuer}", error="invalid_token", error_description="${description}"`);
  });

  it('refuses an id_token used as an access token (typ at+jwt, RFC 9068 §4)', async () => {
    const { id_token } = await tokensFor('openid');
    const result = await userinfo(`Bearer ${id_token}`);
    expect(result.status).toBe(401);
    expect(result.json.error).toBe('invalid_token');
  });

  it('refuses a token signed with another key under our kid', async () => {
    const { access_token } = await tokensFor('openid');
    const [header] = access_token.split('.');
    const { kid } = JSON.parse(Buffer.from(header!, 'base64url').toString()) as { kid: string };
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ client_id: 'web-app', scope: 'openid' })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setIssuer(server.issuer)
      .setAudience(server.issuer)
      .setSubject('someone')
      .setJti('x')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const result = await userinfo(`Bearer ${forged}`);
    expect(result.status).toBe(401);
    expect(result.json).toEqual({ error: 'invalid_token', error_description: 'the access token is invalid' });
  });

  it('refuses an expired token', async () => {
    const { access_token } = await tokensFor('openid');
    server.clock.advance(601);
    const result = await userinfo(`Bearer ${access_token}`);
    expect(result.status).toBe(401);
    expect(result.json).toEqual({ error: 'invalid_token', error_description: 'the access token expired' });
  });

  it('answers 403 insufficient_scope for a token without openid, which also came without an id_token', async () => {
    const tokens = await tokensFor('profile');
    expect(tokens.id_token).toBeUndefined();
    const result = await userinfo(`Bearer ${tokens.access_token}`);
    expect(result.status).toBe(403);
    expect(result.json).toEqual({ error: 'insufficient_scope', error_description: 'the access token was not granted the openid scope' });
    expect(result.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });
});
