import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, parseForm, type Page } from '../support/browser.js';
import { authorizationUrl } from '../support/flow.js';
import { ALICE, startServer, type TestServer } from '../support/server.js';

/** An S256 challenge: these tests stop before the code is redeemed. */
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/**
 * OIDC Core §3.1.2.1 max_age: the authentication must be recent enough when the code is issued,
 * also when the user lingered on the consent page. The TestClock moves between showing the
 * consent page and approving it.
 */
const MAX_AGE = 60;
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

/** openid-client as the public `spa` client (it requires consent), its clock set to the server's. */
async function spa() {
  return oidc.discovery(new URL(server.issuer), 'spa', { [oidc.clockSkew]: server.clock.now() - Math.floor(Date.now() / 1000) }, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
}

function isLoginPage(page: Page): boolean {
  return page.status === 200 && page.html.includes('name="password"');
}

function isConsentPage(page: Page): boolean {
  return page.status === 200 && page.html.includes('value="approve"');
}

describe('approving consent after max_age passed', () => {
  it('asks for the password again, then issues a code whose auth_time satisfies max_age', async () => {
    let config = await spa();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: server.callback('spa'),
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      max_age: String(MAX_AGE),
    });
    const browser = new Browser();
    const login = await browser.get(url.href);
    expect(isLoginPage(login)).toBe(true);
    const consent = await browser.submit(login, parseForm(login.html), ALICE);
    expect(isConsentPage(consent)).toBe(true);
    const firstAuthTime = server.clock.now();

    server.clock.advance(MAX_AGE + 1); // the user reads the consent page for a while
    const approved = await browser.submit(consent, parseForm(consent.html), { decision: 'approve' });
    expect(approved.status, 'no code for an authentication older than max_age').not.toBe(0);
    expect(isLoginPage(approved)).toBe(true);

    // A fresh login, then the consent page again (nothing was granted), then the code.
    const again = await browser.submit(approved, parseForm(approved.html), ALICE);
    expect(isConsentPage(again)).toBe(true);
    const done = await browser.submit(again, parseForm(again.html), { decision: 'approve' });
    expect(done.status).toBe(0);

    // The relying party checks auth_time against max_age itself (openid-client does).
    config = await spa();
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, maxAge: MAX_AGE });
    const authTime = tokens.claims()!.auth_time!;
    expect(authTime).toBeGreaterThan(firstAuthTime + MAX_AGE);
    expect(server.clock.now() - authTime).toBeLessThanOrEqual(MAX_AGE);
  });

  it('issues the code when approved within max_age', async () => {
    const browser = new Browser();
    // prompt=consent: alice may have granted these scopes already.
    const login = await browser.get(authorizationUrl(server, 'spa', CHALLENGE, { max_age: String(MAX_AGE), prompt: 'consent', state: undefined }));
    const consent = await browser.submit(login, parseForm(login.html), ALICE);
    server.clock.advance(MAX_AGE); // auth_time + max_age = now: still fresh enough
    const done = await browser.submit(consent, parseForm(consent.html), { decision: 'approve' });
    expect(done.status).toBe(0);
    expect(new URL(done.url).searchParams.get('code')).toBeTruthy();
  });

  it('a denial after max_age is still a denial (access_denied), not a login page', async () => {
    const browser = new Browser();
    const login = await browser.get(authorizationUrl(server, 'spa', CHALLENGE, { max_age: String(MAX_AGE), prompt: 'consent', state: 'd' }));
    const consent = await browser.submit(login, parseForm(login.html), ALICE);
    server.clock.advance(MAX_AGE + 1);
    const done = await browser.submit(consent, parseForm(consent.html), { decision: 'deny' });
    expect(Object.fromEntries(new URL(done.url).searchParams)).toEqual({ error: 'access_denied', error_description: 'the user denied the request', state: 'd', iss: server.issuer });
  });
});
