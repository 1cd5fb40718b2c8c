import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '../../src/http/admin/routes.js';
import { adminClientEntry, adminFetch, adminToken, ADMIN_SECRET } from '../support/admin.js';
import { dpopNonce, dpopProof, makeKey, type TestKey } from '../support/fapi.js';
import { basic, obtainCode, postForm } from '../support/flow.js';
import { startServer, type TestServer } from '../support/server.js';

/** A path of the route with every parameter filled in (the checks below come before any lookup). */
const concrete = (path: string) => path.replace(/\{[A-Za-z_]+\}/g, 'some-id');

let server: TestServer;
let admin: string;
let auditReader: string;
let clientsReader: string;

beforeAll(async () => {
  server = await startServer({
    clients: [
      adminClientEntry(),
      adminClientEntry('trusty:audit:read', 'audit-bot'),
      adminClientEntry('trusty:clients:read invoices:read', 'reader-bot'),
      adminClientEntry('trusty:admin', 'dpop-admin'),
      {
        client_id: 'admin-web',
        client_secret: ADMIN_SECRET,
        redirect_uris: ['http://127.0.0.1:9/admin-web/callback'],
        scope: 'openid trusty:admin',
        require_consent: false,
      },
    ],
  });
  admin = await adminToken(server);
  auditReader = await adminToken(server, 'audit-bot');
  clientsReader = await adminToken(server, 'reader-bot');
});
afterAll(() => server.close());

describe('the management API (CONTRACT: /admin/v1, RFC 9457 problems, trusty:* scopes)', () => {
  it('has operations', () => {
    expect(ADMIN_ROUTES.length).toBeGreaterThan(10);
  });

  it.each(ADMIN_ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s refuses a request without a token: 401 with a challenge', async (_name, route) => {
    const response = await adminFetch(server, undefined, route.method, concrete(route.path), route.body !== undefined ? {} : undefined);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/admin\/v1", DPoP algs="/);
    expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(response.body).toMatchObject({ status: 401, type: expect.stringMatching(/^urn:trusty:problem:/) });
  });

  it.each(ADMIN_ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s refuses a token without its scope: 403 insufficient_scope', async (_name, route) => {
    // Audit readers may read the audit log only; the others get the clients reader's token.
    const token = route.scope === 'trusty:audit:read' ? clientsReader : auditReader;
    const response = await adminFetch(server, token, route.method, concrete(route.path), route.body !== undefined ? {} : undefined);
    expect(response.status).toBe(403);
    const wanted = route.scope === null ? 'trusty:admin' : `trusty:admin ${route.scope}`;
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer realm="${server.issuer}/admin/v1", error="insufficient_scope", error_description="${response.body.detail}", scope="${wanted}"`,
    );
    expect(response.body).toMatchObject({ type: 'urn:trusty:problem:insufficient-scope', status: 403 });
  });

  it.each(ADMIN_ROUTES.filter((r) => r.body !== undefined).map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s answers an unknown field with a 400 problem naming it',
    async (_name, route) => {
      const response = await adminFetch(server, admin, route.method, concrete(route.path), { not_a_field: 1 });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ type: 'urn:trusty:problem:invalid-request', status: 400 });
      if (route.path.endsWith('/jwks/keys')) {
        // RFC 7517 §4: a JWK may carry members of any name; this one lacks its kty.
        expect(response.body.errors).toContainEqual({ field: 'body', message: 'must have a kty' });
      } else {
        expect(response.body.errors).toContainEqual({ field: 'not_a_field', message: 'is not a known field' });
      }
    },
  );

  const paged = ADMIN_ROUTES.filter((r) => r.method === 'GET' && (r.query as { shape?: Record<string, unknown> } | undefined)?.shape?.limit !== undefined);
  it.each(paged.flatMap((r) => ['0x10', '0', '201', '1e2', '-1'].map((limit) => [`${r.path}?limit=${limit}`, r, limit] as const)))('GET %s is a 400 problem naming limit', async (_name, route, limit) => {
    const token = route.scope === 'trusty:audit:read' ? auditReader : admin;
    const response = await adminFetch(server, token, 'GET', `${concrete(route.path)}?limit=${limit}`);
    expect(response.status).toBe(400);
    expect(response.body.field).toBe('limit');
  });

  it('refuses a bad token with invalid_token', async () => {
    const response = await adminFetch(server, 'not-a-token', 'GET', '/openapi.json');
    expect(response.status).toBe(200); // the document itself is public
    const refused = await adminFetch(server, 'not.a.token', ADMIN_ROUTES[0]!.method, concrete(ADMIN_ROUTES[0]!.path));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses a user access token, even with trusty:admin in its scope', async () => {
    // Only client_credentials tokens (sub = the client itself, RFC 9068 §2.2) manage the server.
    const { code, verifier, redirectUri } = await obtainCode(server, 'admin-web', { scope: 'openid trusty:admin' });
    const issued = await postForm(
      server.issuer + '/token',
      { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri },
      { authorization: basic('admin-web', ADMIN_SECRET) },
    );
    expect(issued.json.scope).toBe('openid trusty:admin');
    const route = ADMIN_ROUTES.find((r) => r.method === 'GET' && !r.path.includes('{'))!;
    const response = await adminFetch(server, String(issued.json.access_token), 'GET', route.path);
    expect(response.status).toBe(403);
    expect(response.body.detail).toBe('the management API takes client_credentials access tokens only');
  });

  it('answers JSON only: a form body is 415', async () => {
    const route = ADMIN_ROUTES.find((r) => r.method === 'POST' && r.scope === null && r.body !== undefined)!;
    const response = await fetch(server.issuer + '/admin/v1' + concrete(route.path), {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=b',
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ type: 'urn:trusty:problem:unsupported-media-type', status: 415 });
  });

  it('answers malformed JSON with a 400 problem, an unknown operation with a 404 problem', async () => {
    const route = ADMIN_ROUTES.find((r) => r.method === 'POST' && r.body !== undefined)!;
    const response = await fetch(server.issuer + '/admin/v1' + concrete(route.path), {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: '{"a":',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    const missing = await adminFetch(server, admin, 'GET', '/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ type: 'urn:trusty:problem:not-found', status: 404 });
  });

  it('answers a deeply nested JSON body with a 400 problem, not a 500', async () => {
    for (const path of ['/clients', '/users', '/roles']) {
      const response = await fetch(server.issuer + '/admin/v1' + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: `{"claims":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`,
      });
      expect(response.status, path).toBe(400);
      expect(await response.json()).toMatchObject({ type: 'urn:trusty:problem:invalid-request', detail: 'the JSON body is nested more than 32 levels deep' });
    }
  });

  it('accepts a DPoP-bound admin token with its proof, and refuses it as a Bearer token', async () => {
    const key: TestKey = await makeKey('ES256');
    const tokenUrl = server.issuer + '/token';
    const nonce = await dpopNonce(server, key);
    const issued = await postForm(tokenUrl, { grant_type: 'client_credentials' }, { authorization: basic('dpop-admin', ADMIN_SECRET), dpop: await dpopProof(server, key, { htu: tokenUrl, nonce }) });
    expect(issued.status).toBe(200);
    expect(issued.json.token_type).toBe('DPoP');
    const token = String(issued.json.access_token);
    const route = ADMIN_ROUTES.find((r) => r.method === 'GET' && r.path === '/keys') ?? ADMIN_ROUTES.find((r) => r.method === 'GET' && !r.path.includes('{'))!;
    const url = server.issuer + '/admin/v1' + route.path;
    const asBearer = await adminFetch(server, token, 'GET', route.path);
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toMatch(/^DPoP /);
    const proof = await dpopProof(server, key, { htm: 'GET', htu: url, nonce, accessToken: token });
    const response = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
    expect(response.status).toBe(200);
    const replayed = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
    expect(replayed.status).toBe(401);
  });
});

describe('/admin/v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document with every operation, generated from the route schemas', async () => {
    const response = await adminFetch(server, undefined, 'GET', '/openapi.json');
    expect(response.status).toBe(200);
    const document = response.body;
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers).toEqual([{ url: server.issuer + '/admin/v1' }]);
    expect(document.components.securitySchemes.trusty.flows.clientCredentials.tokenUrl).toBe(server.issuer + '/token');
    for (const route of ADMIN_ROUTES) {
      const operation = document.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation.security[0]).toEqual({ trusty: ['trusty:admin'] });
      expect(operation.responses['401'].content['application/problem+json']).toBeDefined();
      if (route.body !== undefined) expect(operation.requestBody.content['application/json'].schema.type).toBe('object');
    }
    const ids = Object.values(document.paths).flatMap((ops: any) => Object.values(ops).map((op: any) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
