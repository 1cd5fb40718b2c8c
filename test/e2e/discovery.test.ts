import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let doc: Record<string, unknown>;

beforeAll(async () => {
  server = await startServer();
  doc = (await (await fetch(server.issuer + '/.well-known/openid-configuration')).json()) as Record<string, unknown>;
});
afterAll(async () => {
  await server?.close();
});

describe('discovery (OIDC Discovery §3, RFC 8414 §2) lists what is enforced, and only that', () => {
  it('serves the same document at both well-known paths, cacheable', async () => {
    const response = await fetch(server.issuer + '/.well-known/oauth-authorization-server');
    expect(await response.json()).toEqual(doc);
    expect(doc.issuer).toBe(server.issuer);
  });

  it('sends discovery and the JWKS the same way from the fast path, and from the Fastify route', async () => {
    const headerNames = ['content-type', 'cache-control', 'content-length', 'x-content-type-options', 'x-frame-options', 'referrer-policy'];
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/.well-known/jwks.json']) {
      const fast = await fetch(server.issuer + path);
      // A query string is not the fast path's exact path: Fastify's route answers it.
      const routed = await fetch(`${server.issuer}${path}?via=fastify`);
      const injected = await server.app.inject({ method: 'GET', url: path });
      const body = await fast.text();
      expect(fast.status, path).toBe(200);
      expect(body, path).toBe(await routed.text());
      expect(body, path).toBe(injected.body);
      for (const name of headerNames) {
        expect(fast.headers.get(name), `${path} ${name}`).toBe(routed.headers.get(name));
        expect(fast.headers.get(name), `${path} ${name}`).toBe(injected.headers[name]);
      }
      expect(fast.headers.get('cache-control')).toBe('public, max-age=300');
      expect(fast.headers.get('x-content-type-options')).toBe('nosniff');
      const head = await fetch(server.issuer + path, { method: 'HEAD' });
      expect([head.status, await head.text(), head.headers.get('content-length')]).toEqual([200, '', fast.headers.get('content-length')]);
    }
  });

  it('advertises PAR, private_key_jwt, DPoP, S256, iss, revocation, introspection and logout', () => {
    expect(doc).toMatchObject({
      authorization_endpoint: `${server.issuer}/auth`,
      pushed_authorization_request_endpoint: `${server.issuer}/par`,
      require_pushed_authorization_requests: false,
      token_endpoint: `${server.issuer}/token`,
      userinfo_endpoint: `${server.issuer}/userinfo`,
      jwks_uri: `${server.issuer}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      revocation_endpoint: `${server.issuer}/revoke`,
      introspection_endpoint: `${server.issuer}/introspect`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      end_session_endpoint: `${server.issuer}/logout`,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
      token_endpoint_auth_signing_alg_values_supported: ['ES256', 'PS256', 'EdDSA', 'RS256'],
      dpop_signing_alg_values_supported: ['ES256', 'PS256', 'EdDSA'],
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['ES256', 'PS256', 'RS256', 'EdDSA'],
      authorization_response_iss_parameter_supported: true,
      request_parameter_supported: false,
    });
  });

  it('lists no endpoint that does not answer', async () => {
    const endpoints = Object.entries(doc).filter(([name]) => name.endsWith('_endpoint') || name === 'jwks_uri');
    for (const [name, url] of endpoints) {
      const response = await fetch(String(url), { method: name === 'jwks_uri' || name === 'authorization_endpoint' || name === 'userinfo_endpoint' ? 'GET' : 'POST', redirect: 'manual' });
      expect(response.status, name).not.toBe(404);
    }
  });
});
