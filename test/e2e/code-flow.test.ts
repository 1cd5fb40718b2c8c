import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST_SECRET, WEB_SECRET, startServer, type TestServer } from '../support/server.js';
import { Browser, parseForm } from '../support/browser.js';
import { openidCodeFlow } from '../support/flow.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

async function discover(clientId: string, auth: oidc.ClientAuth = oidc.None(), secret?: string) {
  return oidc.discovery(new URL(server.issuer), clientId, secret, auth, { execute: [oidc.allowInsecureRequests] });
}

/** Runs the code flow with openid-client up to the token response. */
function codeFlow(config: oidc.Configuration, clientId: string, browser = new Browser(), params: Record<string, string> = {}) {
  return openidCodeFlow(config, server.callback(clientId), { browser, params });
}

describe('authorization code flow with openid-client', () => {
  it('logs in, exchanges the code, verifies the id_token against the JWKS and calls userinfo (client_secret_basic)', async () => {
    const config = await discover('web-app', oidc.ClientSecretBasic(WEB_SECRET));
    const { tokens, callback, nonce } = await codeFlow(config, 'web-app');

    // RFC 9207: iss in the authorization response
    expect(callback.searchParams.get('iss')).toBe(server.issuer);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(600);

    const jwks = createRemoteJWKSet(new URL(server.issuer + '/.well-known/jwks.json'));
    const { payload: idToken, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, { issuer: server.issuer, audience: 'web-app' });
    expect(protectedHeader.alg).toBe('ES256');
    expect(idToken.nonce).toBe(nonce);
    expect(typeof idToken.auth_time).toBe('number');
    expect(typeof idToken.at_hash).toBe('string');

    // RFC 9068 access token
    const { payload: at, protectedHeader: atHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: server.issuer,
      audience: server.issuer,
      typ: 'at+jwt',
    });
    expect(atHeader.typ).toBe('at+jwt');
    expect(at).toMatchObject({ sub: idToken.sub, client_id: 'web-app', scope: 'openid profile email' });
    expect(typeof at.jti).toBe('string');
    expect(at.exp! - at.iat!).toBe(600);

    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub!);
    expect(userinfo).toEqual({ sub: idToken.sub, name: 'Alice Martin', email: 'alice@example.com', email_verified: true });
  });

  it('works for client_secret_post with a PS256 id_token, scope limited to openid email', async () => {
    const config = await discover('post-app', oidc.ClientSecretPost(POST_SECRET));
    const { tokens } = await codeFlow(config, 'post-app', new Browser(), { scope: 'openid email' });
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('PS256');
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(userinfo).toEqual({ sub: tokens.claims()!.sub, email: 'alice@example.com', email_verified: true });
  });

  it('serves a public client (none) with consent, an EdDSA id_token, and remembers the consent', async () => {
    const config = await discover('spa');
    const browser = new Browser();
    const { tokens } = await codeFlow(config, 'spa', browser);
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('EdDSA');
    const jwks = createRemoteJWKSet(new URL(server.issuer + '/.well-known/jwks.json'));
    await jwtVerify(tokens.id_token!, jwks, { issuer: server.issuer, audience: 'spa' });

    // Second request in the same browser: SSO session and remembered consent, straight to the callback.
    const again = await codeFlow(config, 'spa', browser);
    expect(browser.redirectStatuses).toEqual([303]); // /auth → callback, no page in between
    expect(again.tokens.claims()!.sub).toBe(tokens.claims()!.sub);
  });

  it('signs RS256 id_tokens for a client that registered RS256', async () => {
    const config = await discover('legacy-rs256');
    const { tokens } = await codeFlow(config, 'legacy-rs256', new Browser(), { scope: 'openid' });
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256');
  });

  it('shows the consent page and returns access_denied with state and iss when the user denies', async () => {
    const config = await discover('spa');
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: server.callback('spa'),
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'deny-state',
    });
    const browser = new Browser();
    let page = await browser.get(url.href);
    page = await browser.submit(page, parseForm(page.html), { username: 'bob', password: 'bob-password' });
    const form = parseForm(page.html);
    expect(form.buttons).toEqual([
      { name: 'decision', value: 'deny' },
      { name: 'decision', value: 'approve' },
    ]);
    page = await browser.submit(page, form, { decision: 'deny' });
    const callback = new URL(page.url);
    expect(Object.fromEntries(callback.searchParams)).toEqual({
      error: 'access_denied',
      error_description: 'the user denied the request',
      state: 'deny-state',
      iss: server.issuer,
    });
  });
});
