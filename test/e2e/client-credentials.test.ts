import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSERTION_TYPE, clientAssertion, dpopNonce, dpopProof, makeKey, thumbprint, type TestKey } from '../support/fapi.js';
import { basic, postForm } from '../support/flow.js';
import { WEB_SECRET, startServer, type TestServer } from '../support/server.js';

/** grant_type=client_credentials for services and agents (RFC 6749 §4.4, RFC 8707, RFC 9068). */
const SECRET = 'billing-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const SCOPE = 'invoices:read invoices:write';
const API = 'https://api.example.com/';
const BILLING = 'https://billing.example.com/';
let server: TestServer;
let jwks: JWTVerifyGetKey;
let agentKey: TestKey;
let fapiKey: TestKey;
let dpopKey: TestKey;

beforeAll(async () => {
  [agentKey, fapiKey, dpopKey] = await Promise.all([makeKey('ES256'), makeKey('PS256'), makeKey('ES256')]);
  server = await startServer({
    clients: [
      { client_id: 'billing', client_secret: SECRET, grant_types: ['client_credentials'], scope: SCOPE, resources: [API, BILLING] },
      { client_id: 'agent', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [agentKey.publicJwk] }, grant_types: ['client_credentials'], scope: SCOPE },
      // A FAPI 2.0 service account: no redirect_uris, no user, only sender-constrained tokens.
      { client_id: 'fapi-agent', profile: 'fapi2', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [fapiKey.publicJwk] }, grant_types: ['client_credentials'], scope: SCOPE },
    ],
  });
  jwks = createRemoteJWKSet(new URL(server.issuer + '/.well-known/jwks.json'));
});
afterAll(async () => {
  await server?.close();
});

const tokenUrl = () => server.issuer + '/token';
const asBilling = () => ({ authorization: basic('billing', SECRET) });
const token = (form: Record<string, string> = {}, headers = asBilling()) => postForm(tokenUrl(), { grant_type: 'client_credentials', ...form }, headers);
/** RFC 8707 §2: `resource` may be repeated, so the form is sent as pairs. */
const tokenFor = (...resources: string[]) =>
  postForm(tokenUrl(), [['grant_type', 'client_credentials'], ...resources.map((r): [string, string] => ['resource', r])], asBilling());

function expectError(response: Awaited<ReturnType<typeof postForm>>, status: number, error: string, description: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.json).toEqual({ error, error_description: description });
}

describe('client_credentials (RFC 6749 §4.4)', () => {
  it('issues a JWT access token (RFC 9068) with client_secret_basic, through openid-client', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'billing', undefined, oidc.ClientSecretBasic(SECRET), { execute: [oidc.allowInsecureRequests] });
    expect(config.serverMetadata().grant_types_supported).toContain('client_credentials');
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'invoices:read' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.id_token).toBeUndefined();
    expect(tokens.scope).toBe('invoices:read');
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer: server.issuer, audience: server.issuer, typ: 'at+jwt' });
    expect(protectedHeader.alg).toBe('ES256');
    // RFC 9068 §2.2: without a resource owner, sub is the client; without a resource, aud is the issuer.
    expect(payload).toEqual({
      iss: server.issuer,
      sub: 'billing',
      client_id: 'billing',
      aud: server.issuer,
      scope: 'invoices:read',
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.any(String),
    });
    expect(payload.exp! - payload.iat!).toBe(tokens.expires_in);
  });

  it('answers with no-store and a Bearer token, without refresh or ID token (§4.4.3)', async () => {
    const response = await token();
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    expect(response.json).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: expect.any(Number), scope: SCOPE });
  });

  it('authenticates an agent with private_key_jwt, through openid-client', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'agent', undefined, oidc.PrivateKeyJwt({ key: agentKey.privateKey, kid: agentKey.kid }), {
      execute: [oidc.allowInsecureRequests],
    });
    const tokens = await oidc.clientCredentialsGrant(config);
    expect(tokens.token_type).toBe('bearer');
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: server.issuer, audience: server.issuer, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: 'agent', client_id: 'agent', scope: SCOPE });
  });

  it('grants the whole registered scope when none is asked, a subset when asked, never more', async () => {
    expect((await token()).json.scope).toBe(SCOPE);
    const subset = await token({ scope: 'invoices:write' });
    expect(subset.json.scope).toBe('invoices:write');
    expect(decodeJwt(String(subset.json.access_token)).scope).toBe('invoices:write');
    expectError(await token({ scope: 'invoices:read admin' }), 400, 'invalid_scope', 'scope not allowed for this client: admin');
  });

  it('refuses clients that may not use the grant: a public client, and one not registered for it', async () => {
    const description = 'the client is not allowed to use the client_credentials grant';
    expectError(await postForm(tokenUrl(), { grant_type: 'client_credentials', client_id: 'spa' }), 400, 'unauthorized_client', description);
    expectError(await token({}, { authorization: basic('web-app', WEB_SECRET) }), 400, 'unauthorized_client', description);
  });

  it('lists client_credentials in discovery', async () => {
    const metadata = (await (await fetch(server.issuer + '/.well-known/openid-configuration')).json()) as Record<string, unknown>;
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
  });
});

describe('resource indicators (RFC 8707)', () => {
  it('sets aud to the one resource asked for (jose reads it as a one-element array)', async () => {
    const response = await tokenFor(API);
    expect(response.status).toBe(200);
    const { payload } = await jwtVerify(String(response.json.access_token), jwks, { issuer: server.issuer, audience: API, typ: 'at+jwt' });
    expect(payload.aud).toEqual([API]);
  });

  it('sets aud to every resource asked for, each once', async () => {
    expect(decodeJwt(String((await tokenFor(API, BILLING)).json.access_token)).aud).toEqual([API, BILLING]);
    expect(decodeJwt(String((await tokenFor(API, API)).json.access_token)).aud).toEqual([API]);
  });

  it.each([
    ['a resource not allowed', 'https://other.example.com/', 'resource is not allowed for this client: https://other.example.com/'],
    ['a relative resource', '/api', 'resource must be an absolute URI without a fragment'],
    ['a resource with a fragment', `${API}#x`, 'resource must be an absolute URI without a fragment'],
  ])('refuses %s with invalid_target (§2)', async (_name, resource, description) => {
    expectError(await tokenFor(resource), 400, 'invalid_target', description);
  });

  it('refuses a request naming one allowed and one refused resource', async () => {
    expectError(await tokenFor(API, 'https://other.example.com/'), 400, 'invalid_target', 'resource is not allowed for this client: https://other.example.com/');
  });

  it('caps the number of resource parameters', async () => {
    expectError(await tokenFor(...Array<string>(11).fill(API)), 400, 'invalid_target', 'at most 10 resource parameters are accepted');
  });
});

describe('client_credentials for a fapi2 service account', () => {
  const form = async () => ({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(server, 'fapi-agent', fapiKey) });

  it('issues DPoP-bound tokens (RFC 9449 §5) when the request carries a proof', async () => {
    const nonce = await dpopNonce(server, dpopKey);
    const response = await postForm(tokenUrl(), await form(), { dpop: await dpopProof(server, dpopKey, { htu: tokenUrl(), nonce }) });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.json).toEqual({ access_token: expect.any(String), token_type: 'DPoP', expires_in: expect.any(Number), scope: SCOPE });
    const { payload } = await jwtVerify(String(response.json.access_token), jwks, { issuer: server.issuer, audience: server.issuer, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: 'fapi-agent', client_id: 'fapi-agent', cnf: { jkt: await thumbprint(dpopKey) } });
  });

  it('refuses a request without a DPoP proof (FAPI 2.0 §5.3.2.1)', async () => {
    expectError(await postForm(tokenUrl(), await form()), 400, 'invalid_dpop_proof', 'a DPoP proof is required: this client only receives sender-constrained tokens');
  });
});
