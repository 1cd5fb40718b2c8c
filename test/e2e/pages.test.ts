import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, loginThrough, parseForm, type Page } from '../support/browser.js';
import { authorizationUrl, basic, postForm } from '../support/flow.js';
import { ALICE, WEB_SECRET, startServer, type TestServer } from '../support/server.js';

/** The hosted login and consent pages, the SSO session and prompt/max_age, over real HTTP. */
let server: TestServer;
let challenge: string;

beforeAll(async () => {
  server = await startServer();
  challenge = await oidc.calculatePKCECodeChallenge('v'.repeat(43));
});
afterAll(async () => {
  await server?.close();
});

const url = (clientId: string, params: Record<string, string | undefined> = {}) => authorizationUrl(server, clientId, challenge, params);
const callbackParams = (page: Page) => Object.fromEntries(new URL(page.url).searchParams);

async function loginPage(browser = new Browser(), clientId = 'web-app', params: Record<string, string | undefined> = {}) {
  const page = await browser.get(url(clientId, params));
  expect(page.status).toBe(200);
  return { browser, page, form: parseForm(page.html) };
}

describe('the login page', () => {
  it('is a POST form with username, password and a hidden csrf_token (contract), with labels', async () => {
    const { page, form } = await loginPage();
    expect(form.method.toLowerCase()).toBe('post');
    expect(form.action).toMatch(/^\/interaction\/[A-Za-z0-9_-]{43}\/login$/);
    expect(Object.keys(form.fields)).toEqual(['csrf_token']);
    expect(page.html).toMatch(/<input id="username" name="username" type="text"/);
    expect(page.html).toMatch(/<input id="password" name="password" type="password"/);
    expect(page.html).toContain('<label for="username">Username</label>');
    expect(page.html).toContain('<label for="password">Password</label>');
    expect(page.html).toContain('to continue to Web App');
  });

  it('is never framed nor cached, and loads nothing from elsewhere', async () => {
    const { page } = await loginPage();
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
  });

  it('re-renders with 401 and an error on a wrong password, the username escaped, and no session', async () => {
    const { browser, page, form } = await loginPage();
    const again = await browser.submit(page, form, { username: '<script>alert(1)</script>', password: 'wrong' });
    expect(again.status).toBe(401);
    expect(again.html).toContain('The username or password is incorrect.');
    expect(again.html).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(again.html).not.toContain('<script>alert(1)');
    expect(browser.cookie('trusty_session')).toBeUndefined();
    // The same form then works with the right password.
    const done = await browser.submit(again, parseForm(again.html), ALICE);
    expect(done.status).toBe(0);
    expect(callbackParams(done).code).toBeDefined();
  });

  it.each([
    ['missing', undefined],
    ['wrong', 'x'.repeat(43)],
  ])('refuses a %s csrf_token with 403 and no session', async (_name, token) => {
    const { browser, page, form } = await loginPage();
    const fields: Record<string, string> = token === undefined ? {} : { csrf_token: token };
    const response = await browser.submit(page, { ...form, fields }, { ...ALICE, ...fields });
    expect(response.status).toBe(403);
    expect(browser.cookie('trusty_session')).toBeUndefined();
  });

  it('refuses a login POST from a browser without the interaction cookie (400 page, no redirect)', async () => {
    const { page, form } = await loginPage();
    const stranger = new Browser();
    const response = await stranger.submit(page, form, ALICE);
    expect(response.status).toBe(400);
    expect(response.html).toContain('this sign-in request is unknown or expired');
    expect(stranger.cookie('trusty_session')).toBeUndefined();
  });

  it('answers an unknown interaction with a 400 page', async () => {
    const page = await new Browser().get(`${server.issuer}/interaction/${'a'.repeat(43)}`);
    expect(page.status).toBe(400);
    expect(page.html).toContain('<html lang="en">');
  });

  it('sets the session cookie HttpOnly, SameSite=Lax, Path=/, not Secure on an http issuer', async () => {
    const { browser, page, form } = await loginPage();
    const interaction = browser.cookie('trusty_interaction');
    expect(interaction).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const response = await fetch(new URL(form.action, page.url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `trusty_interaction=${interaction}` },
      body: new URLSearchParams({ ...form.fields, ...ALICE }).toString(),
    });
    expect(response.status).toBe(303);
    const session = response.headers.getSetCookie().find((c) => c.startsWith('trusty_session='))!;
    expect(session).toMatch(/^trusty_session=[A-Za-z0-9_-]{43};/);
    expect(session).toContain('HttpOnly');
    expect(session).toContain('SameSite=Lax');
    expect(session).toContain('Path=/');
    expect(session).not.toContain('Secure');
  });
});

describe('languages (ui_locales, then Accept-Language)', () => {
  it.each([
    ['Accept-Language fr-FR', new Browser(undefined, 'fr-FR,fr;q=0.9'), {}, 'fr', 'Connexion'],
    ['ui_locales=fr over Accept-Language en', new Browser(undefined, 'en'), { ui_locales: 'fr' }, 'fr', 'Connexion'],
    ['ui_locales=de fr (first supported)', new Browser(undefined, 'en'), { ui_locales: 'de fr' }, 'fr', 'Connexion'],
    ['an unsupported language', new Browser(undefined, 'de'), {}, 'en', 'Sign in'],
  ])('%s', async (_name, browser, params, lang, title) => {
    const { page } = await loginPage(browser, 'web-app', params);
    expect(page.html).toContain(`<html lang="${lang}">`);
    expect(page.html).toContain(`<h1>${title}</h1>`);
  });
});

describe('the SSO session, prompt and max_age (OIDC Core §3.1.2.1)', () => {
  async function signedIn() {
    const browser = new Browser();
    await loginThrough(browser, url('web-app'), ALICE);
    return browser;
  }

  it('sends a second authorization straight to the callback', async () => {
    const browser = await signedIn();
    const page = await browser.get(url('web-app', { state: 'again' }));
    expect(page.status).toBe(0);
    expect(callbackParams(page)).toMatchObject({ state: 'again', iss: server.issuer });
    expect(callbackParams(page).code).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('shows the login page again with prompt=login', async () => {
    const browser = await signedIn();
    const page = await browser.get(url('web-app', { prompt: 'login' }));
    expect(page.status).toBe(200);
    expect(page.html).toContain('name="password"');
  });

  it('asks again when the authentication is older than max_age, and carries auth_time', async () => {
    const browser = await signedIn();
    const fresh = await browser.get(url('web-app', { max_age: '60' }));
    expect(fresh.status).toBe(0);
    server.clock.advance(61);
    const stale = await browser.get(url('web-app', { max_age: '60' }));
    expect(stale.status).toBe(200);
    expect(stale.html).toContain('name="password"');
    const done = await browser.submit(stale, parseForm(stale.html), ALICE);
    const tokens = await postForm(
      server.issuer + '/token',
      { grant_type: 'authorization_code', code: callbackParams(done).code!, redirect_uri: server.callback('web-app'), code_verifier: 'v'.repeat(43) },
      { authorization: basic('web-app', WEB_SECRET) },
    );
    expect(decodeJwt(String(tokens.json.id_token)).auth_time).toBe(server.clock.now());
  });

  it('answers prompt=none without a session with login_required, state and iss', async () => {
    const page = await new Browser().get(url('web-app', { prompt: 'none', state: 's0' }));
    expect(page.status).toBe(0);
    expect(callbackParams(page)).toEqual({ error: 'login_required', error_description: expect.any(String), state: 's0', iss: server.issuer });
  });

  it('answers prompt=none with a session but no consent yet with consent_required', async () => {
    const browser = await signedIn();
    const page = await browser.get(url('spa', { prompt: 'none', scope: 'openid profile' }));
    expect(page.status).toBe(0);
    expect(callbackParams(page)).toMatchObject({ error: 'consent_required', iss: server.issuer });
  });
});

describe('the consent page', () => {
  it('names the client and the scopes, with the contract buttons', async () => {
    const browser = new Browser();
    const login = await browser.get(url('spa', { scope: 'openid profile email' }));
    const consent = await browser.submit(login, parseForm(login.html), ALICE);
    expect(consent.status).toBe(200);
    expect(consent.html).toContain('Single-Page App is asking to:');
    expect(consent.html).toContain('See your name and profile');
    expect(consent.html).toContain('See your email address');
    expect(parseForm(consent.html).buttons).toEqual([
      { name: 'decision', value: 'deny' },
      { name: 'decision', value: 'approve' },
    ]);
  });

  it('redirects a denial with access_denied, state and iss', async () => {
    const browser = new Browser();
    const done = await loginThrough(browser, url('spa', { state: 'no' }), ALICE, 'deny');
    expect(Object.fromEntries(new URL(done).searchParams)).toEqual({ error: 'access_denied', error_description: 'the user denied the request', state: 'no', iss: server.issuer });
  });

  it('remembers an approval for the user and client', async () => {
    const browser = new Browser();
    await loginThrough(browser, url('spa'), ALICE, 'approve');
    const again = await browser.get(url('spa', { state: 'remembered' }));
    expect(again.status).toBe(0);
    expect(callbackParams(again).code).toBeDefined();
    // A wider scope asks again.
    const wider = await browser.get(url('spa', { scope: 'openid email' }));
    expect(wider.status).toBe(200);
    expect(wider.html).toContain('name="decision"');
  });
});
