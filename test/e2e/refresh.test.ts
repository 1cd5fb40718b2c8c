import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, loginThrough } from '../support/browser.js';
import { fapiClient, makeKey, type TestKey } from '../support/fapi.js';
import { basic, obtainCode, openidCodeFlow, postForm } from '../support/flow.js';
import { ALICE, WEB_SECRET, startServer, type TestServer } from '../support/server.js';

/** refresh_token grant (RFC 6749 §6), rotation and reuse detection, DPoP binding, and code replay (§4.1.2). */
let server: TestServer;
let bankKey: TestKey;

beforeAll(async () => {
  bankKey = await makeKey('ES256');
  server = await startServer({
    clients: [
      {
        client_id: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1:9/native/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile offline_access',
        require_consent: false,
      },
      fapiClient(undefined, 'bank', bankKey, { grant_types: ['authorization_code', 'refresh_token'], scope: 'openid profile offline_access' }),
    ],
  });
});
afterAll(async () => {
  await server?.close();
});

const discover = (clientId: string, auth: oidc.ClientAuth) =>
  oidc.discovery(new URL(server.issuer), clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });

async function webAppTokens(scope = 'openid profile offline_access') {
  const config = await discover('web-app', oidc.ClientSecretBasic(WEB_SECRET));
  const { tokens } = await openidCodeFlow(config, server.callback('web-app'), { params: { scope } });
  return { config, tokens };
}

async function userinfoStatus(accessToken: string) {
  const response = await fetch(server.issuer + '/userinfo', { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function expectOAuthError(promise: Promise<unknown>, error: string, description: string) {
  const failure = await promise.then(
    () => undefined,
    (e: unknown) => e as oidc.ResponseBodyError,
  );
  expect(failure?.error).toBe(error);
  expect(failure?.error_description).toBe(description);
}

describe('refresh tokens for an oidc confidential client', () => {
  it('issues a refresh token only with offline_access', async () => {
    const { tokens } = await webAppTokens('openid profile');
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('rotates: a refresh yields new tokens, and the old refresh token is spent', async () => {
    const { config, tokens } = await webAppTokens();
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeDefined();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.scope).toBe('openid profile offline_access');
    expect(decodeJwt(refreshed.id_token!).sub).toBe(decodeJwt(tokens.id_token!).sub);
    expect((await userinfoStatus(refreshed.access_token)).status).toBe(200);
  });

  it('detects reuse of a rotated token and revokes the whole family', async () => {
    const { config, tokens } = await webAppTokens();
    const second = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    await expectOAuthError(oidc.refreshTokenGrant(config, tokens.refresh_token!), 'invalid_grant', 'the refresh token was already used; its grant is revoked');
    await expectOAuthError(oidc.refreshTokenGrant(config, second.refresh_token!), 'invalid_grant', 'the refresh token was revoked');
    for (const accessToken of [tokens.access_token, second.access_token]) {
      expect(await userinfoStatus(accessToken)).toEqual({ status: 401, body: { error: 'invalid_token', error_description: 'the access token was revoked' } });
    }
  });

  it('lets scope narrow but never widen (RFC 6749 §6)', async () => {
    const { config, tokens } = await webAppTokens('openid offline_access');
    const narrowed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid' });
    expect(narrowed.scope).toBe('openid');
    await expectOAuthError(oidc.refreshTokenGrant(config, narrowed.refresh_token!, { scope: 'openid profile' }), 'invalid_scope', 'scope exceeds what was granted: profile');
  });

  it("refuses another client's refresh token, and an unknown one", async () => {
    const { tokens } = await webAppTokens();
    const other = await postForm(server.issuer + '/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: 'native' });
    expect(other.json).toEqual({ error: 'invalid_grant', error_description: 'the refresh token is invalid' });
    const unknown = await postForm(server.issuer + '/token', { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) }, { authorization: basic('web-app', WEB_SECRET) });
    expect(unknown.json).toEqual({ error: 'invalid_grant', error_description: 'the refresh token is invalid' });
  });
});

describe('refresh tokens bound to a DPoP key (RFC 9449 §5)', () => {
  async function nativeTokens() {
    const config = await discover('native', oidc.None());
    const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const { tokens } = await openidCodeFlow(config, 'http://127.0.0.1:9/native/callback', { params: { scope: 'openid offline_access' }, dpop });
    return { config, dpop, tokens };
  }

  it("binds a public client's refresh token: the same key refreshes, another key or none cannot", async () => {
    const { config, dpop, tokens } = await nativeTokens();
    expect(tokens.token_type).toBe('dpop');
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop });
    expect(refreshed.token_type).toBe('dpop');
    expect(decodeJwt(refreshed.access_token).cnf).toEqual(decodeJwt(tokens.access_token).cnf);

    const otherKey = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    await expectOAuthError(
      oidc.refreshTokenGrant(config, refreshed.refresh_token!, undefined, { DPoP: otherKey }),
      'invalid_grant',
      'the DPoP proof key does not match the key the refresh token is bound to',
    );
    const { tokens: fresh } = await nativeTokens();
    await expectOAuthError(oidc.refreshTokenGrant(config, fresh.refresh_token!), 'invalid_dpop_proof', 'a DPoP proof is required: the refresh token is bound to a DPoP key');
  });

  it('does not rotate a fapi2 confidential client’s refresh token (FAPI 2.0 §5.3.2.1), and needs DPoP each time', async () => {
    const config = await discover('bank', oidc.PrivateKeyJwt({ key: bankKey.privateKey, kid: bankKey.kid }));
    const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const verifier = oidc.randomPKCECodeVerifier();
    const url = await oidc.buildAuthorizationUrlWithPAR(
      config,
      { redirect_uri: server.callback('bank'), scope: 'openid offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' },
      { DPoP: dpop },
    );
    const callback = await loginThrough(new Browser(), url.href, ALICE);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier, expectedState: oidc.skipStateCheck }, undefined, { DPoP: dpop });
    const first = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop });
    expect(first.refresh_token).toBeUndefined();
    const second = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop });
    expect(second.token_type).toBe('dpop');
    await expectOAuthError(oidc.refreshTokenGrant(config, tokens.refresh_token!), 'invalid_dpop_proof', 'a DPoP proof is required: this client only receives sender-constrained tokens');
  });
});

describe('authorization code replay (RFC 6749 §4.1.2)', () => {
  it('refuses the second use and revokes what the first use issued', async () => {
    const { code, verifier, redirectUri } = await obtainCode(server, 'web-app', { scope: 'openid offline_access' });
    const form = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri };
    const first = await postForm(server.issuer + '/token', form, { authorization: basic('web-app', WEB_SECRET) });
    expect(first.status).toBe(200);
    expect((await userinfoStatus(String(first.json.access_token))).status).toBe(200);

    const replay = await postForm(server.issuer + '/token', form, { authorization: basic('web-app', WEB_SECRET) });
    expect(replay.json).toEqual({ error: 'invalid_grant', error_description: 'the authorization code was already used' });
    expect((await userinfoStatus(String(first.json.access_token))).body.error_description).toBe('the access token was revoked');
    const refresh = await postForm(server.issuer + '/token', { grant_type: 'refresh_token', refresh_token: String(first.json.refresh_token) }, { authorization: basic('web-app', WEB_SECRET) });
    expect(refresh.json).toEqual({ error: 'invalid_grant', error_description: 'the refresh token was revoked' });
  });
});

describe('refresh token lifetimes', () => {
  it('expires an unused refresh token after the idle timeout', async () => {
    const { config, tokens } = await webAppTokens();
    server.clock.advance(1209600 + 1);
    await expectOAuthError(oidc.refreshTokenGrant(config, tokens.refresh_token!), 'invalid_grant', 'the refresh token expired');
  });
});
