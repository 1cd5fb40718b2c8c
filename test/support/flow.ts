import * as oidc from 'openid-client';
import { ALICE, type TestServer } from './server.js';
import { Browser, loginThrough } from './browser.js';

/** An /auth URL with PKCE S256 for one of the test clients; `params` adds or overrides (undefined removes). */
export function authorizationUrl(server: TestServer, clientId: string, challenge: string, params: Record<string, string | undefined> = {}): string {
  const url = new URL(server.issuer + '/auth');
  const all: Record<string, string | undefined> = {
    client_id: clientId,
    redirect_uri: server.callback(clientId),
    response_type: 'code',
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'test-state',
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

/** Logs alice in and returns a fresh code with its PKCE verifier. */
export async function obtainCode(server: TestServer, clientId: string, params: Record<string, string | undefined> = {}, browser = new Browser()) {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = authorizationUrl(server, clientId, await oidc.calculatePKCECodeChallenge(verifier), params);
  const callback = new URL(await loginThrough(browser, url, ALICE));
  const code = callback.searchParams.get('code');
  if (code === null) throw new Error(`no code in ${callback.href}`);
  return { code, verifier, redirectUri: server.callback(clientId), browser };
}

export function basic(clientId: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
}

/**
 * POSTs a form to the token endpoint and returns status, headers and parsed JSON; pass pairs
 * instead of a record to repeat a field (RFC 8707 `resource`).
 */
export async function postForm(url: string, form: Record<string, string> | Array<[string, string]>, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: response.status, headers: response.headers, json };
}

/**
 * The code flow through openid-client up to the token response: PKCE S256, state and nonce
 * checked, alice logging in on the hosted page. `params` adds or overrides authorization
 * parameters; `dpop` binds the tokens.
 */
export async function openidCodeFlow(
  config: oidc.Configuration,
  redirectUri: string,
  options: { browser?: Browser; params?: Record<string, string>; dpop?: oidc.DPoPHandle } = {},
) {
  const browser = options.browser ?? new Browser();
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...options.params,
  });
  const callback = await loginThrough(browser, url.href, ALICE);
  const tokens = await oidc.authorizationCodeGrant(
    config,
    new URL(callback),
    { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce },
    undefined,
    options.dpop ? { DPoP: options.dpop } : undefined,
  );
  return { tokens, callback: new URL(callback), nonce, browser };
}
