import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSERTION_TYPE, clientAssertion, dpopNonce, dpopProof, makeKey, thumbprint, type TestKey } from '../support/fapi.js';
import { basic, postForm } from '../support/flow.js';
import { startServer, type TestServer } from '../support/server.js';

/** grant_type=client_credentials for services and agents (RFC 6749 §4.4, RFC 8707, RFC 9068). */
const SECRET = 'billing-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const API = 'https://api.example.com/';
const BILLING = 'https://billing.example.com/';
let server: TestServer;
let agentKey: TestKey;
let fapiKey: TestKey;

beforeAll(async () => {
  [agentKey, fapiKey] = await Promise.all([makeKey('ES256'), makeKey('PS256')]);
  const scope = 'invoices:read invoices:write';
  server = await startServer({
    clients: [
      { client_id: 'billing', client_secret: SECRET, grant_types: ['client_credentials'], scope, resources: [API, BILLING] },
      { client_id: 'agent', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [agentKey.publicJwk] }, grant_types: ['client_credentials'], scope },
      { client_id: 'fapi-agent', profile: 'fapi2', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [fapiKey.publicJwk] }, grant_types: ['client_credentials'], scope, id_token_signed_response_alg: 'PS256' },
    ],
  });
});
afterAll(async () => {
  await server?.close();
});

const token = (form: Record<string, string>, headers: Record<string, string> = { authorization: basic('billing', SECRET) }) =>
  postForm(server.issuer + '/token', { grant_type: 'client_credentials', ...form }, headers);

describe('client_credentials', () => {
  it('issues a JWT access token (RFC 9068) with client_secret_basic, through openid-client', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'billing', undefined, oidc.ClientSecretBasic(SECRET), { execute: [oidc.allowInsecureRequests] });
    expect(config.serverMetadata().grant_types_supported).toContain('client_credentials');
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'invoices:read' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('invoices:read');
    const jwks = createRemoteJWKSet(new URL(server.issuer + '/.well-known/jwks.json'));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer: server.issuer, audience: server.issuer, typ: 'at+jwt' });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: 'billing', client_id: 'billing', scope: 'invoices:read' });
    expect(typeof payload.jti).toBe('string');
  });

  it('authenticates an agent with private_key_jwt, through openid-client', async () => {
    const config = await oidc.discovery(new URL(server.issuer), 'agent', undefined, oidc.PrivateKeyJwt({ key: agentKey.privateKey, kid: agentKey.kid }), {
      execute: [oidc.allowInsecureRequests],
    });
    const tokens = await oidc.clientCredentialsGrant(config);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: 'agent', client_id: 'agent', scope: 'invoices:read invoices:write' });
  });

  it('grants the whole registered scope when none is asked, a subset when asked, never more', async () => {
    expect((await token({})).json.scope).toBe('invoices:read invoices:write');
    expect((await token({ scope: 'invoices:write' })).json.scope).toBe('invoices:write');
    const refused = await token({ scope: 'invoices:read admin' });
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({ error: 'invalid_scope', error_description: 'scope not allowed for this client: admin' });
  });

  it('sets aud from RFC 8707 resource parameters, repeatable, within the allowed ones', async () => {
    expect(decodeJwt(String((await token({ resource: API })).json.access_token)).aud).toEqual([API]);
    const body = new URLSearchParams([['grant_type', 'client_credentials'], ['resource', API], ['resource', BILLING]]);
    const response = await fetch(server.issuer + '/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('billing', SECRET) }, body });
    expect(decodeJwt(String(((await response.json()) as Record<string, unknown>).access_token)).aud).toEqual([API, BILLING]);
  });

  it.each([
    ['a resource not allowed', 'https://other.example.com/', 'resource is not allowed for this client: https://other.example.com/'],
    ['a relative resource', '/api', 'resource must be an absolute URI without a fragment'],
    ['a resource with a fragment', `${API}#x`, 'resource must be an absolute URI without a fragment'],
  ])('refuses %s with invalid_target', async (_name, resource, description) => {
    const response = await token({ resource });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ error: 'invalid_target', error_description: description });
  });

  it('refuses clients not registered for the grant', async () => {
    const spa = await postForm(server.issuer + '/token', { grant_type: 'client_credentials', client_id: 'spa' });
    expect(spa.json).toEqual({ error: 'unauthorized_client', error_description: 'the client is not allowed to use the client_credentials grant' });
  });
});

describe('client_credentials for a fapi2 service account', () => {
  const form = async () => ({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(server, 'fapi-agent', fapiKey) });

  it('issues only DPoP-bound tokens', async () => {
    const nonce = await dpopNonce(server, agentKey);
    const response = await postForm(server.issuer + '/token', await form(), { dpop: await dpopProof(server, agentKey, { htu: server.issuer + '/token', nonce }) });
    expect(response.status).toBe(200);
    expect(response.json.token_type).toBe('DPoP');
    expect(decodeJwt(String(response.json.access_token)).cnf).toEqual({ jkt: await thumbprint(agentKey) });
  });

  it('refuses a request without a DPoP proof', async () => {
    const response = await postForm(server.issuer + '/token', await form());
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ error: 'invalid_dpop_proof', error_description: 'a DPoP proof is required: this client only receives sender-constrained tokens' });
  });
});
