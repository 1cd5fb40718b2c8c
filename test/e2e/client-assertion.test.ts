import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSERTION_TYPE, clientAssertion, fapiClient, makeKey, pushRequest, type TestKey } from '../support/fapi.js';
import { postForm } from '../support/flow.js';
import { startServer, type TestServer } from '../support/server.js';

/** private_key_jwt (RFC 7523 §3, FAPI 2.0 §5.3.2.1), exercised at /par, which authenticates like /token. */
let server: TestServer;
let jwksServer: Server;
let jwksBody = '';
let jwksFetches = 0;
let bankKey: TestKey;
let rsaKey: TestKey;
let remoteKey: TestKey;
let strangerKey: TestKey;

beforeAll(async () => {
  [bankKey, rsaKey, remoteKey, strangerKey] = await Promise.all([makeKey('ES256', 'bank-1'), makeKey('RS256'), makeKey('ES256'), makeKey('ES256', 'bank-1')]);
  jwksServer = createServer((_req, res) => {
    jwksFetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(jwksBody);
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const address = jwksServer.address();
  const jwksUri = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/jwks`;
  jwksBody = JSON.stringify({ keys: [remoteKey.publicJwk] });
  server = await startServer({
    clients: [
      fapiClient(undefined, 'bank', bankKey),
      // An oidc client may use RS256; aud must still be the issuer alone (draft-ietf-oauth-rfc7523bis).
      { ...fapiClient(undefined, 'rp-jwt', rsaKey), profile: 'oidc', id_token_signed_response_alg: 'RS256' },
      // The old leniency, opted into (unsafe): RFC 7523 §3 (3)'s endpoint URLs and arrays.
      { ...fapiClient(undefined, 'rp-lenient', rsaKey), profile: 'oidc', id_token_signed_response_alg: 'RS256', client_assertion_audience: 'lenient' },
      // A service account as Python Authlib drives it (client_credentials, exp = iat + 3600).
      { client_id: 'authlib-svc', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [bankKey.publicJwk] }, grant_types: ['client_credentials'], scope: 'invoices:read' },
      { ...fapiClient(undefined, 'remote', remoteKey), jwks: undefined, jwks_uri: jwksUri },
    ],
  });
});
afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => jwksServer?.close(resolve));
});

async function push(clientId: string, key: TestKey, assertion: string | Promise<string>, form: Record<string, string | undefined> = {}) {
  return pushRequest(server, clientId, key, { client_assertion: await assertion, ...form });
}

function expectInvalidClient(response: { status: number; json: Record<string, unknown> }, description: string) {
  expect(response.json).toEqual({ error: 'invalid_client', error_description: description });
  expect(response.status).toBe(401);
}

describe('private_key_jwt for a fapi2 client', () => {
  const now = () => server.clock.now();

  it('accepts a valid assertion, with iat up to 10 s in the future', async () => {
    expect((await push('bank', bankKey, clientAssertion(server, 'bank', bankKey))).status).toBe(201);
    expect((await push('bank', bankKey, clientAssertion(server, 'bank', bankKey, { claims: { iat: now() + 10, nbf: now() + 10 } }))).status).toBe(201);
    expect((await push('bank', bankKey, clientAssertion(server, 'bank', bankKey, { header: { typ: 'JWT' } }))).status).toBe(201);
  });

  it.each([
    ['aud = the token endpoint URL', () => ({ claims: { aud: server.issuer + '/token' } }), 'client_assertion aud must be the issuer identifier, as a single string'],
    ['aud = the PAR endpoint URL', () => ({ claims: { aud: server.issuer + '/par' } }), 'client_assertion aud must be the issuer identifier, as a single string'],
    ['aud as an array holding the issuer', () => ({ claims: { aud: [server.issuer] } }), 'client_assertion aud must be the issuer identifier, as a single string'],
    ['aud = another server', () => ({ claims: { aud: 'https://other.example' } }), 'client_assertion aud must be the issuer identifier, as a single string'],
    ['an expired assertion', () => ({ claims: { iat: now() - 120, exp: now() - 60 } }), 'client_assertion has expired'],
    ['no exp', () => ({ claims: { exp: undefined } }), 'client_assertion exp claim is missing or invalid'],
    ['an exp more than an hour (+10 s) away', () => ({ claims: { exp: now() + 3611 } }), 'client_assertion exp must be at most 3600 seconds in the future'],
    ['an exp more than 300 s away without iat', () => ({ claims: { iat: undefined, exp: now() + 301 } }), 'client_assertion exp must be at most 300 seconds in the future when iat is absent'],
    ['an iat more than 300 s (+10 s) old', () => ({ claims: { iat: now() - 311, exp: now() + 3000 } }), 'client_assertion iat must be at most 300 seconds in the past'],
    ['iat 60 s in the future', () => ({ claims: { iat: now() + 60 } }), 'client_assertion iat is in the future'],
    ['nbf 60 s in the future', () => ({ claims: { nbf: now() + 60 } }), 'client_assertion nbf is in the future'],
    ['no jti', () => ({ claims: { jti: undefined } }), 'client_assertion jti claim is missing or invalid'],
    ['sub of another client', () => ({ claims: { sub: 'rp-jwt' } }), 'client_assertion sub must be the client_id'],
    ['an unknown kid', () => ({ header: { kid: 'nope' } }), 'no registered key of the client matches the client_assertion'],
    ['the right kid but another key', () => ({ signWith: strangerKey.privateKey }), 'client_assertion signature is invalid'],
    ['typ dpop+jwt', () => ({ header: { typ: 'dpop+jwt' } }), 'client_assertion typ must be JWT or client-authentication+jwt when present'],
  ])('refuses %s', async (_name, options, description) => {
    expectInvalidClient(await push('bank', bankKey, clientAssertion(server, 'bank', bankKey, options())), description);
  });

  it('refuses a replayed jti', async () => {
    const assertion = await clientAssertion(server, 'bank', bankKey);
    expect((await push('bank', bankKey, assertion)).status).toBe(201);
    expectInvalidClient(await push('bank', bankKey, assertion), 'client_assertion jti was already used');
  });

  it('refuses alg none and HS256', async () => {
    const now = server.clock.now();
    const claims = { iss: 'bank', sub: 'bank', aud: server.issuer, jti: randomUUID(), exp: now + 60 };
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    expectInvalidClient(await push('bank', bankKey, none), 'client_assertion alg must be one of ES256, PS256, EdDSA');
    const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(32)));
    expectInvalidClient(await push('bank', bankKey, hs256), 'client_assertion alg must be one of ES256, PS256, EdDSA');
  });

  it('refuses RS256 from a fapi2 client (FAPI 2.0 §5.4)', async () => {
    const assertion = await clientAssertion(server, 'bank', rsaKey, { header: { kid: 'bank-1' } });
    expectInvalidClient(await push('bank', bankKey, assertion), 'client_assertion alg must be one of ES256, PS256, EdDSA');
  });

  it('refuses a wrong client_assertion_type and a malformed assertion', async () => {
    expectInvalidClient(await push('bank', bankKey, clientAssertion(server, 'bank', bankKey), { client_assertion_type: 'urn:example' }), `client_assertion_type must be ${ASSERTION_TYPE}`);
    expectInvalidClient(await push('bank', bankKey, 'not-a-jwt'), 'client_assertion is not a JWT with an iss claim');
  });
});

describe('private_key_jwt for an oidc client', () => {
  it('accepts RS256 and aud = the issuer', async () => {
    const response = await push('rp-jwt', rsaKey, clientAssertion(server, 'rp-jwt', rsaKey, { claims: { aud: server.issuer } }));
    expect(response.status).toBe(201);
  });

  // draft-ietf-oauth-rfc7523bis: the issuer as a single string is the only audience safe from injection.
  it.each([
    ['the token endpoint URL', () => server.issuer + '/token'],
    ['the PAR endpoint URL it calls', () => server.issuer + '/par'],
    ['an array holding the issuer', () => ['https://other.example', server.issuer]],
    ['another endpoint', () => server.issuer + '/userinfo'],
  ])('refuses aud = %s by default', async (_name, aud) => {
    const response = await push('rp-jwt', rsaKey, clientAssertion(server, 'rp-jwt', rsaKey, { claims: { aud: aud() } }));
    expectInvalidClient(response, 'client_assertion aud must be the issuer identifier, as a single string');
  });
});

describe('private_key_jwt for an oidc client with client_assertion_audience: lenient (unsafe)', () => {
  it.each([
    ['the issuer', () => server.issuer],
    ['the token endpoint URL', () => server.issuer + '/token'],
    ['the PAR endpoint URL it calls', () => server.issuer + '/par'],
    ['an array holding the issuer', () => ['https://other.example', server.issuer]],
  ])('accepts aud = %s', async (_name, aud) => {
    const response = await push('rp-lenient', rsaKey, clientAssertion(server, 'rp-lenient', rsaKey, { claims: { aud: aud() } }));
    expect(response.status).toBe(201);
  });

  it('refuses an aud naming another endpoint or server', async () => {
    const response = await push('rp-lenient', rsaKey, clientAssertion(server, 'rp-lenient', rsaKey, { claims: { aud: server.issuer + '/userinfo' } }));
    expectInvalidClient(response, 'client_assertion aud must be the issuer identifier or the endpoint URL');
  });
});

/**
 * Python Authlib's PrivateKeyJWT signs {iss, sub, aud, exp: iat + 3600, jti, iat} with typ JWT,
 * aud being what it is given as token_endpoint (give it the issuer). Accepted, and its jti is
 * remembered only while it can be accepted: 300 s after iat (+10 s), not the hour exp says.
 */
describe('an Authlib-shaped assertion (exp = iat + 3600)', () => {
  async function authlibAssertion(clientId: string, key: TestKey, aud: string, iat = server.clock.now()) {
    return new SignJWT({ iss: clientId, sub: clientId, aud, exp: iat + 3600, jti: randomUUID().replaceAll('-', ''), iat })
      .setProtectedHeader({ alg: key.alg, typ: 'JWT', kid: key.kid })
      .sign(key.privateKey);
  }
  const tokenRequest = (assertion: string) =>
    postForm(server.issuer + '/token', { grant_type: 'client_credentials', scope: 'invoices:read', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });

  it('gets a token at /token with client_credentials, once', async () => {
    const assertion = await authlibAssertion('authlib-svc', bankKey, server.issuer);
    const first = await tokenRequest(assertion);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ token_type: 'Bearer', scope: 'invoices:read' });
    expectInvalidClient(await tokenRequest(assertion), 'client_assertion jti was already used');
  });

  it('pushes a request at /par for a fapi2 client', async () => {
    expect((await push('bank', bankKey, authlibAssertion('bank', bankKey, server.issuer))).status).toBe(201);
  });

  it('is refused once its iat is more than 300 s (+10 s) old, though exp is still ahead', async () => {
    const assertion = await authlibAssertion('authlib-svc', bankKey, server.issuer, server.clock.now() - 311);
    expectInvalidClient(await tokenRequest(assertion), 'client_assertion iat must be at most 300 seconds in the past');
  });

  it.each(['/introspect', '/revoke'])('authenticates at %s too, once', async (path) => {
    const assertion = await authlibAssertion('authlib-svc', bankKey, server.issuer);
    const form = { token: 'not-a-token', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion };
    expect((await postForm(server.issuer + path, form)).status).toBe(200);
    expectInvalidClient(await postForm(server.issuer + path, form), 'client_assertion jti was already used');
  });

  it("is refused with Authlib's default aud (the token endpoint URL) unless the client is lenient", async () => {
    expectInvalidClient(await tokenRequest(await authlibAssertion('authlib-svc', bankKey, server.issuer + '/token')), 'client_assertion aud must be the issuer identifier, as a single string');
  });
});

describe('private_key_jwt with a jwks_uri', () => {
  it('fetches the keys once, and again only for an unknown kid after the cooldown', async () => {
    jwksFetches = 0;
    expect((await push('remote', remoteKey, clientAssertion(server, 'remote', remoteKey))).status).toBe(201);
    expect((await push('remote', remoteKey, clientAssertion(server, 'remote', remoteKey))).status).toBe(201);
    expect(jwksFetches).toBe(1);
    // An unknown kid within the cooldown does not refetch (no fetch per request).
    const unknown = await push('remote', remoteKey, clientAssertion(server, 'remote', remoteKey, { header: { kid: 'rotated' } }));
    expectInvalidClient(unknown, 'no registered key of the client matches the client_assertion');
    expect(jwksFetches).toBe(1);
  });

  it('refuses a jwks_uri answer over the size limit', async () => {
    const big = await startServer({
      clients: [{ ...fapiClient(undefined, 'remote', remoteKey), jwks: undefined, jwks_uri: jwksServer.address() ? `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/big` : '' }],
    });
    const saved = jwksBody;
    jwksBody = JSON.stringify({ keys: [remoteKey.publicJwk], padding: 'x'.repeat(70 * 1024) });
    try {
      const response = await pushRequest(big, 'remote', remoteKey);
      expectInvalidClient(response, "the client's jwks_uri did not return a valid JWK set");
    } finally {
      jwksBody = saved;
      await big.close();
    }
  });
});
