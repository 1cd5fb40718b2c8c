import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, obtainCode, postForm } from '../support/flow.js';
import { POST_SECRET, WEB_SECRET, startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let tokenUrl: string;
const webAuth = () => ({ authorization: basic('web-app', WEB_SECRET) });

beforeAll(async () => {
  server = await startServer();
  tokenUrl = server.issuer + '/token';
});
afterAll(async () => {
  await server?.close();
});

function expectError(result: Awaited<ReturnType<typeof postForm>>, status: number, error: string, description: string) {
  expect({ status: result.status, body: result.json }).toEqual({ status, body: { error, error_description: description } });
  expect(result.headers.get('cache-control')).toBe('no-store');
  expect(result.headers.get('content-type')).toMatch(/^application\/json/);
}

async function exchange(code: { code: string; verifier: string; redirectUri: string }, overrides: Record<string, string | undefined> = {}, headers: Record<string, string> = webAuth()) {
  const form: Record<string, string> = {};
  const all = { grant_type: 'authorization_code', code: code.code, code_verifier: code.verifier, redirect_uri: code.redirectUri, ...overrides };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) form[k] = v;
  return postForm(tokenUrl, form, headers);
}

describe('/token: authorization codes', () => {
  it('issues tokens with Cache-Control: no-store and Pragma: no-cache', async () => {
    const result = await exchange(await obtainCode(server, 'web-app'));
    expect(result.status).toBe(200);
    expect(result.headers.get('cache-control')).toBe('no-store');
    expect(result.headers.get('pragma')).toBe('no-cache');
    expect(Object.keys(result.json).sort()).toEqual(['access_token', 'expires_in', 'id_token', 'scope', 'token_type']);
  });

  it('refuses a second use of a code', async () => {
    const code = await obtainCode(server, 'web-app');
    expect((await exchange(code)).status).toBe(200);
    expectError(await exchange(code), 400, 'invalid_grant', 'the authorization code was already used');
  });

  it('lets exactly one of two concurrent exchanges of the same code succeed (atomic consumption)', async () => {
    const code = await obtainCode(server, 'web-app');
    const results = await Promise.all(Array.from({ length: 5 }, () => exchange(code)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400]);
  });

  it('refuses a code older than 60 seconds', async () => {
    const code = await obtainCode(server, 'web-app');
    server.clock.advance(61);
    expectError(await exchange(code), 400, 'invalid_grant', 'the authorization code expired');
  });

  it('refuses a code issued to another client', async () => {
    const code = await obtainCode(server, 'web-app');
    expectError(
      await exchange(code, { redirect_uri: server.callback('post-app'), client_id: 'post-app', client_secret: POST_SECRET }, {}),
      400,
      'invalid_grant',
      'the authorization code was issued to another client',
    );
  });

  it('refuses a redirect_uri different from the authorization request', async () => {
    const code = await obtainCode(server, 'web-app');
    expectError(await exchange(code, { redirect_uri: server.callback('web-app') + '/' }), 400, 'invalid_grant', 'redirect_uri does not match the authorization request');
  });

  it('requires redirect_uri', async () => {
    const code = await obtainCode(server, 'web-app');
    expectError(await exchange(code, { redirect_uri: undefined }), 400, 'invalid_request', 'redirect_uri is required');
  });

  it('refuses a wrong code_verifier (PKCE)', async () => {
    const code = await obtainCode(server, 'web-app');
    expectError(await exchange(code, { code_verifier: 'x'.repeat(43) }), 400, 'invalid_grant', 'code_verifier does not match the code_challenge');
  });

  it('refuses a malformed code_verifier', async () => {
    const code = await obtainCode(server, 'web-app');
    expectError(await exchange(code, { code_verifier: 'too-short' }), 400, 'invalid_grant', 'code_verifier must be 43 to 128 unreserved characters');
  });

  // RFC 7636 §4.6: every code here carries a code_challenge, so a missing verifier fails the grant.
  it('refuses a missing code_verifier with invalid_grant, and the code stays usable', async () => {
    const code = await obtainCode(server, 'web-app');
    expectError(await exchange(code, { code_verifier: undefined }), 400, 'invalid_grant', 'code_verifier is required');
    expect((await exchange(code)).status).toBe(200);
  });

  it('refuses an unknown code without a code_verifier as an invalid code', async () => {
    const fake = { code: 'A'.repeat(43), verifier: 'v'.repeat(43), redirectUri: server.callback('web-app') };
    expectError(await exchange(fake, { code_verifier: undefined }), 400, 'invalid_grant', 'the authorization code is invalid');
  });

  // RFC 6749 §4.1.2 and §4.1.3: only the client the code was issued to may trigger its revocation.
  it("refuses another client's replay of a used code and revokes nothing", async () => {
    const code = await obtainCode(server, 'web-app');
    const first = await exchange(code);
    expect(first.status).toBe(200);
    const accessToken = String(first.json.access_token);
    expectError(
      await exchange(code, { redirect_uri: server.callback('post-app'), client_id: 'post-app', client_secret: POST_SECRET }, {}),
      400,
      'invalid_grant',
      'the authorization code was issued to another client',
    );
    const userinfo = await fetch(server.issuer + '/userinfo', { headers: { authorization: `Bearer ${accessToken}` } });
    expect(userinfo.status).toBe(200);
  });

  it("revokes what a code issued when its own client replays it (RFC 6749 §4.1.2)", async () => {
    const code = await obtainCode(server, 'web-app');
    const first = await exchange(code);
    expect(first.status).toBe(200);
    expectError(await exchange(code), 400, 'invalid_grant', 'the authorization code was already used');
    const userinfo = await fetch(server.issuer + '/userinfo', { headers: { authorization: `Bearer ${String(first.json.access_token)}` } });
    expect(userinfo.status).toBe(401);
  });

  it('refuses an unknown code and a missing one', async () => {
    const fake = { code: 'A'.repeat(43), verifier: 'v'.repeat(43), redirectUri: server.callback('web-app') };
    expectError(await exchange(fake), 400, 'invalid_grant', 'the authorization code is invalid');
    expectError(await exchange(fake, { code: undefined }), 400, 'invalid_request', 'code is required');
  });

  it('exchanges a public client code with client_id only (none)', async () => {
    const code = await obtainCode(server, 'legacy-rs256');
    const result = await exchange(code, { client_id: 'legacy-rs256' }, {});
    expect(result.status).toBe(200);
  });
});

describe('/token: client authentication (RFC 6749 §2.3)', () => {
  const form = { grant_type: 'authorization_code', code: 'c'.repeat(43), code_verifier: 'v'.repeat(43), redirect_uri: 'http://127.0.0.1:9/web-app/callback' };

  it('answers 401 invalid_client with WWW-Authenticate: Basic for a wrong Basic secret', async () => {
    const result = await postForm(tokenUrl, form, { authorization: basic('web-app', 'wrong-secret') });
    expectError(result, 401, 'invalid_client', 'client authentication failed');
    expect(result.headers.get('www-authenticate')).toBe(`Basic realm="${server.issuer}"`);
  });

  it('answers 401 for an unknown client', async () => {
    expectError(await postForm(tokenUrl, form, { authorization: basic('nobody', WEB_SECRET) }), 401, 'invalid_client', 'client authentication failed');
  });

  it('answers 401 for a wrong client_secret_post secret, without a Basic challenge', async () => {
    const result = await postForm(tokenUrl, { ...form, client_id: 'post-app', client_secret: 'nope' });
    expectError(result, 401, 'invalid_client', 'client authentication failed');
    expect(result.headers.get('www-authenticate')).toBeNull();
  });

  it('refuses a method other than the registered one', async () => {
    expectError(await postForm(tokenUrl, { ...form, client_id: 'web-app', client_secret: WEB_SECRET }), 401, 'invalid_client', 'the client must authenticate with client_secret_basic');
    expectError(await postForm(tokenUrl, form, { authorization: basic('post-app', POST_SECRET) }), 401, 'invalid_client', 'the client must authenticate with client_secret_post');
    expectError(await postForm(tokenUrl, { ...form, client_id: 'web-app' }), 401, 'invalid_client', 'the client must authenticate with client_secret_basic');
  });

  it('refuses two authentication methods in one request', async () => {
    expectError(
      await postForm(tokenUrl, { ...form, client_secret: WEB_SECRET }, { authorization: basic('web-app', WEB_SECRET) }),
      400,
      'invalid_request',
      'more than one client authentication method was used',
    );
  });

  it('refuses a confidential client authenticated as public (none)', async () => {
    expectError(await postForm(tokenUrl, { ...form, client_id: 'post-app' }), 401, 'invalid_client', 'the client must authenticate with client_secret_post');
  });

  it('requires some client identification', async () => {
    expectError(await postForm(tokenUrl, form), 401, 'invalid_client', 'client authentication is required (client_id missing)');
  });

  it('refuses malformed Basic credentials', async () => {
    const result = await postForm(tokenUrl, form, { authorization: 'Basic !!!notbase64' });
    expectError(result, 401, 'invalid_client', 'malformed HTTP Basic credentials');
    expect(result.headers.get('www-authenticate')).toMatch(/^Basic /);
  });
});

describe('/token: request shape', () => {
  it('requires grant_type and refuses unknown ones', async () => {
    expectError(await postForm(tokenUrl, {}, webAuth()), 400, 'invalid_request', 'grant_type is required');
    expectError(await postForm(tokenUrl, { grant_type: 'password', username: 'alice', password: 'x' }, webAuth()), 400, 'unsupported_grant_type', 'grant_type password is not supported');
  });

  it('refuses a repeated parameter', async () => {
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...webAuth() },
      body: 'grant_type=authorization_code&code=a&code=b',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_request', error_description: 'code must not be repeated' });
  });

  it.each([
    ['application/json', '{"grant_type":"authorization_code"}'],
    ['text/plain', 'grant_type=authorization_code'],
    ['multipart/form-data; boundary=x', '--x--'],
  ])('refuses a %s body with 400 invalid_request', async (contentType, body) => {
    const response = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': contentType, ...webAuth() }, body });
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ error: 'invalid_request', error_description: 'the request body must be application/x-www-form-urlencoded' });
  });

  it('refuses a body over 64 KiB with 413 invalid_request', async () => {
    const result = await postForm(tokenUrl, { grant_type: 'authorization_code', code: 'x'.repeat(70 * 1024) }, webAuth());
    expectError(result, 413, 'invalid_request', 'the request body is too large');
  });

  it('refuses a malformed percent-encoding without a 5xx', async () => {
    const response = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...webAuth() }, body: 'grant_type=%E0%A4%A&code=%' });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it('answers an unknown path or method with a JSON 404', async () => {
    const response = await fetch(tokenUrl, { method: 'GET' });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'invalid_request', error_description: 'no endpoint at GET /token' });
  });
});
