import { decodeJwt, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Browser, loginThrough, parseForm, type Page } from '../support/browser.js';
import { authorizationUrl, basic, postForm } from '../support/flow.js';
import { ALICE, WEB_SECRET, startServer, type TestServer } from '../support/server.js';

/**
 * The hosted login and consent pages, the SSO session, prompt and max_age, over real HTTP
 * against a listening server. Date is frozen for the whole file: the TestClock is real time
 * plus an offset, so freezing Date makes it move only through clock.advance(), and auth_time
 * and the max_age boundaries can be asserted to the second.
 */
let server: TestServer;
let challenge: string;

const VERIFIER = 'v'.repeat(43);
// One user per concern, so that a consent granted in one test never decides another.
const BOB = { username: 'bob', password: 'bob-password' };
const CAROL = { username: 'carol', password: 'carol-password' };
const DAVE = { username: 'dave', password: 'dave-password' };
const ERIN = { username: 'erin', password: 'erin-password' };
// The longest password config.yaml accepts: 72 bytes, all that bcrypt reads.
const FRANK = { username: 'frank', password: 'frank-'.padEnd(72, 'p') };

const EXPIRED_INTERACTION = '<code>invalid_request</code> this sign-in request is unknown or expired; return to the application and try again';
const BAD_CSRF = '<code>invalid_request</code> the form expired or was not sent by this site; go back and try again';
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'";

beforeAll(async () => {
  server = await startServer({
    users: [CAROL, DAVE, ERIN, FRANK].map((user) => ({ ...user, claims: { name: user.username } })),
  });
  challenge = await oidc.calculatePKCECodeChallenge(VERIFIER);
  vi.useFakeTimers({ toFake: ['Date'] });
});
afterAll(async () => {
  vi.useRealTimers();
  await server?.close();
});

const url = (clientId: string, params: Record<string, string | undefined> = {}) => authorizationUrl(server, clientId, challenge, params);
const query = (href: string) => Object.fromEntries(new URL(href).searchParams);

/** The Set-Cookie lines of a response for one cookie name. */
const setCookies = (headers: Headers, name: string) => headers.getSetCookie().filter((line) => line.startsWith(`${name}=`));

/** A Set-Cookie line's attributes, names lower-cased; flags map to true. */
function cookieAttributes(line: string): Record<string, string | true> {
  const [, ...attributes] = line.split(';').map((part) => part.trim());
  return Object.fromEntries(
    attributes.map((attribute) => {
      const eq = attribute.indexOf('=');
      return eq === -1 ? [attribute.toLowerCase(), true] : [attribute.slice(0, eq).toLowerCase(), attribute.slice(eq + 1)];
    }),
  );
}

/** The visible text of each `<li>` of the consent page's scope list. */
const scopeItems = (html: string) => [...html.matchAll(/<li>([^<]*)<\/li>/g)].map(([, text]) => text);

async function loginPage(browser = new Browser(), clientId = 'web-app', params: Record<string, string | undefined> = {}) {
  const page = await browser.get(url(clientId, params));
  expect(page.status).toBe(200);
  expect(page.html).toContain('name="password"');
  return { browser, page, form: parseForm(page.html) };
}

/** Exchanges a code (PKCE verifier VERIFIER) and returns the id_token's claims. */
async function idToken(clientId: 'web-app' | 'spa', code: string): Promise<JWTPayload> {
  const form = { grant_type: 'authorization_code', code, redirect_uri: server.callback(clientId), code_verifier: VERIFIER };
  const { status, json } =
    clientId === 'spa'
      ? await postForm(server.issuer + '/token', { ...form, client_id: 'spa' })
      : await postForm(server.issuer + '/token', form, { authorization: basic('web-app', WEB_SECRET) });
  expect(status).toBe(200);
  return decodeJwt(String(json.id_token));
}

/** A browser where `credentials` just signed in to web-app (the SSO session is live). */
async function signedIn(credentials: { username: string; password: string } = ALICE) {
  const browser = new Browser();
  const callback = query(await loginThrough(browser, url('web-app'), credentials));
  expect(callback.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(browser.cookie('trusty_session')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return browser;
}

describe('the login page', () => {
  it('is one POST form with username, password and a hidden csrf_token (CONTRACT.md), each input labelled', async () => {
    const { page, form } = await loginPage();
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.html.match(/<form\b/g)).toHaveLength(1);
    expect(form.method).toBe('post');
    expect(form.action).toMatch(/^\/interaction\/[A-Za-z0-9_-]{43}\/login$/);
    expect(form.action.split('/')[2]).toBe(new URL(page.url).pathname.split('/')[2]);
    expect(Object.keys(form.fields)).toEqual(['csrf_token']);
    expect(form.fields.csrf_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(page.html).toMatch(/<input id="username" name="username" type="text" [^>]*value=""[^>]*>/);
    expect(page.html).toMatch(/<input id="password" name="password" type="password" /);
    expect(page.html).toContain('<label for="username">Username</label>');
    expect(page.html).toContain('<label for="password">Password</label>');
    expect(page.html).toContain('<button type="submit" class="primary">Sign in</button>');
    expect(page.html).toContain('<h1>Sign in</h1>');
    expect(page.html).toContain('<p class="lead">to continue to Web App</p>');
    expect(page.html).not.toContain('role="alert"');
  });

  it('compares the whole password: 72 stored bytes and more typed is wrong, though bcrypt would read only the 72', async () => {
    const { browser, page, form } = await loginPage();
    const longer = await browser.submit(page, form, { username: FRANK.username, password: FRANK.password + 'x' });
    expect(longer.status).toBe(401);
    expect(longer.html).toContain('The username or password is incorrect.');
    expect(browser.cookie('trusty_session')).toBeUndefined();
    const exact = await browser.submit(longer, parseForm(longer.html), FRANK);
    expect(exact.status).toBe(0);
    expect(query(exact.url)).toEqual({ code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), state: 'test-state', iss: server.issuer });
  });

  it('re-renders with 401, the error, and the typed username HTML-escaped; sets no session; the same form then works', async () => {
    const { browser, page, form } = await loginPage();
    const again = await browser.submit(page, form, { username: '<script>alert("x")</script>', password: 'wrong' });
    expect(again.status).toBe(401);
    expect(browser.redirectStatuses).toEqual([]);
    expect(again.headers.get('cache-control')).toBe('no-store');
    expect(again.html).toContain('<p class="error" role="alert" id="login-error">The username or password is incorrect.</p>');
    expect(again.html).toContain('value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"');
    expect(again.html).not.toContain('<script>');
    expect(again.html).toContain('aria-invalid="true" aria-describedby="login-error"');
    expect(setCookies(again.headers, 'trusty_session')).toEqual([]);
    expect(browser.cookie('trusty_session')).toBeUndefined();

    const retry = parseForm(again.html);
    expect(retry).toEqual(form);
    const done = await browser.submit(again, retry, ALICE);
    expect(done.status).toBe(0);
    expect(query(done.url)).toEqual({ code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), state: 'test-state', iss: server.issuer });
  });

  it('answers an unknown username exactly as a wrong password (no user enumeration)', async () => {
    const { browser, page, form } = await loginPage();
    const again = await browser.submit(page, form, { username: 'nobody', password: 'alice-password' });
    expect(again.status).toBe(401);
    expect(again.html).toContain('The username or password is incorrect.');
    expect(again.html).toContain('value="nobody"');
    expect(browser.cookie('trusty_session')).toBeUndefined();
  });

  it.each([
    ['missing', () => Promise.resolve(undefined)],
    ['a made-up one', () => Promise.resolve('x'.repeat(43))],
    ['the token of another interaction', async () => (await loginPage()).form.fields.csrf_token],
  ])('refuses a login with the csrf_token %s: 403 page, no redirect, no session', async (_name, token) => {
    const { browser, page, form } = await loginPage();
    const presented = await token();
    const fields: Record<string, string> = presented === undefined ? {} : { csrf_token: presented };
    const refused = await browser.submit(page, { ...form, fields }, ALICE);
    expect(refused.status).toBe(403);
    expect(browser.redirectStatuses).toEqual([]);
    expect(refused.html).toContain('<h1>Something went wrong</h1>');
    expect(refused.html).toContain(BAD_CSRF);
    expect(setCookies(refused.headers, 'trusty_session')).toEqual([]);
    expect(browser.cookie('trusty_session')).toBeUndefined();
    // The interaction survives a forged post: the genuine form still signs in.
    const done = await browser.submit(page, form, ALICE);
    expect(query(done.url).code).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a login POST without the trusty_interaction cookie: a 400 page, not a redirect', async () => {
    const { page, form } = await loginPage();
    const stranger = new Browser();
    const refused = await stranger.submit(page, form, ALICE);
    expect(refused.status).toBe(400);
    expect(stranger.redirectStatuses).toEqual([]);
    expect(refused.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(refused.html).toContain(EXPIRED_INTERACTION);
    expect(setCookies(refused.headers, 'trusty_session')).toEqual([]);
  });

  it.each([
    ['a well-formed unknown id (cookie matching)', 'a'.repeat(43)],
    ['a malformed id (cookie matching)', 'not-an-id'],
  ])('answers a login POST to %s with a 400 page, not a redirect', async (_name, id) => {
    const browser = new Browser();
    browser.setCookie('trusty_interaction', id);
    const target: Page = { url: `${server.issuer}/interaction/${id}`, status: 200, html: '', headers: new Headers() };
    const refused = await browser.submit(target, { action: `/interaction/${id}/login`, method: 'post', fields: { csrf_token: 'x'.repeat(43) }, buttons: [] }, ALICE);
    expect(refused.status).toBe(400);
    expect(browser.redirectStatuses).toEqual([]);
    expect(refused.html).toContain(EXPIRED_INTERACTION);
    expect(setCookies(refused.headers, 'trusty_session')).toEqual([]);
  });

  it('answers a GET of an unknown interaction with a 400 page', async () => {
    const browser = new Browser();
    browser.setCookie('trusty_interaction', 'a'.repeat(43));
    const page = await browser.get(`${server.issuer}/interaction/${'a'.repeat(43)}`);
    expect(page.status).toBe(400);
    expect(browser.redirectStatuses).toEqual([]);
    expect(page.html).toContain('<html lang="en">');
    expect(page.html).toContain(EXPIRED_INTERACTION);
  });

  it('refuses the login form once the interaction expired (session.interaction_ttl, 900 s)', async () => {
    const { browser, page, form } = await loginPage();
    server.clock.advance(901);
    const refused = await browser.submit(page, form, ALICE);
    expect(refused.status).toBe(400);
    expect(refused.html).toContain(EXPIRED_INTERACTION);
    expect(browser.cookie('trusty_session')).toBeUndefined();
  });

  it('sets trusty_session HttpOnly, SameSite=Lax, Path=/, not Secure on an http issuer, and a new value at each login', async () => {
    // A client that asks for consent: the interaction outlives the login, so it can be posted twice.
    const { browser, page, form } = await loginPage(new Browser(), 'spa');
    const interaction = browser.cookie('trusty_interaction');
    expect(interaction).toBe(new URL(page.url).pathname.split('/')[2]);
    const post = () =>
      fetch(new URL(form.action, page.url), {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `trusty_interaction=${interaction}` },
        body: new URLSearchParams({ ...form.fields, ...ALICE }).toString(),
      });
    const response = await post();
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`/interaction/${interaction}`);
    const [session, ...more] = setCookies(response.headers, 'trusty_session');
    expect(more).toEqual([]);
    expect(session).toMatch(/^trusty_session=[A-Za-z0-9_-]{43};/);
    const attributes = cookieAttributes(session!);
    expect(attributes).toMatchObject({ httponly: true, samesite: 'Lax', path: '/', 'max-age': '28800' });
    expect(attributes).not.toHaveProperty('secure');
    expect(attributes).not.toHaveProperty('domain');

    // No session fixation: logging in again (same interaction, same form) gives a fresh value.
    const second = setCookies((await post()).headers, 'trusty_session')[0]!;
    expect(second.split(';')[0]).not.toBe(session!.split(';')[0]);
  });

  it('binds the interaction with a cookie scoped to /interaction, cleared when the flow ends', async () => {
    const start = await fetch(url('web-app'), { redirect: 'manual' });
    const [cookie] = setCookies(start.headers, 'trusty_interaction');
    expect(cookieAttributes(cookie!)).toMatchObject({ httponly: true, samesite: 'Lax', path: '/interaction' });
    expect(cookieAttributes(cookie!)).not.toHaveProperty('secure');

    const browser = new Browser();
    await loginThrough(browser, url('web-app'), ALICE);
    expect(browser.cookie('trusty_interaction')).toBeUndefined();
  });
});

describe('headers on every hosted page', () => {
  it.each([
    ['the login page', 200, async () => (await loginPage()).page],
    [
      'the consent page',
      200,
      async () => {
        const { browser, page, form } = await loginPage(new Browser(), 'spa');
        return browser.submit(page, form, ERIN); // erin never consents
      },
    ],
    ['an error page', 400, async () => new Browser().get(url('nobody'))],
  ])('%s is never framed, never cached, and loads nothing from elsewhere', async (_name, status, open) => {
    const page = await open();
    expect(page.status).toBe(status);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    // Compared directive by directive: helmet writes them without a space after the semicolons.
    const directives = (policy: string | null) => (policy ?? '').split(';').map((d) => d.trim()).filter(Boolean).sort();
    expect(directives(page.headers.get('content-security-policy'))).toEqual(directives(CSP));
    expect(page.headers.get('strict-transport-security')).toBeNull(); // an http (loopback) issuer
    // Popup logins keep their opener (security-headers.ts).
    expect(page.headers.get('cross-origin-opener-policy')).toBeNull();
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
  });
});

describe('the pages\' icon', () => {
  it('is linked by every page and served, so browsers do not ask for /favicon.ico (which does not exist)', async () => {
    const { page } = await loginPage();
    expect(page.html).toContain('<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">');
    const icon = await fetch(`${server.issuer}/assets/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(await icon.text()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });
});

describe('languages: ui_locales, then Accept-Language, then English (CONTRACT.md)', () => {
  it.each([
    ['Accept-Language fr-FR', 'fr-FR,fr;q=0.9', {}, 'fr'],
    ['ui_locales=fr over Accept-Language en', 'en', { ui_locales: 'fr' }, 'fr'],
    ['ui_locales=en over Accept-Language fr', 'fr', { ui_locales: 'en' }, 'en'],
    ['the first supported of ui_locales (de fr)', 'en', { ui_locales: 'de fr' }, 'fr'],
    ['an unknown ui_locales falling back to Accept-Language fr', 'fr', { ui_locales: 'de' }, 'fr'],
    ['an unknown ui_locales and Accept-Language falling back to English', 'de', { ui_locales: 'xx-YY' }, 'en'],
    ['Accept-Language by q-value (fr preferred over en)', 'en;q=0.5, fr;q=0.8', {}, 'fr'],
  ])('%s', async (_name, acceptLanguage, params, lang) => {
    const { page } = await loginPage(new Browser(undefined, acceptLanguage), 'web-app', params);
    expect(page.html).toContain(`<html lang="${lang}">`);
    if (lang === 'fr') {
      expect(page.html).toContain('<h1>Connexion</h1>');
      expect(page.html).toContain('<p class="lead">pour continuer vers Web App</p>');
      expect(page.html).toContain('<label for="username">Nom d’utilisateur</label>');
      expect(page.html).toContain('<label for="password">Mot de passe</label>');
      expect(page.html).toContain('<button type="submit" class="primary">Se connecter</button>');
    } else {
      expect(page.html).toContain('<h1>Sign in</h1>');
    }
  });

  it('keeps the interaction language (ui_locales) for the wrong-password error and the consent page', async () => {
    const browser = new Browser(undefined, 'en');
    const { page, form } = await loginPage(browser, 'spa', { ui_locales: 'fr', scope: 'openid email' });
    const wrong = await browser.submit(page, form, { username: ERIN.username, password: 'wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain('<html lang="fr">');
    expect(wrong.html).toContain('Le nom d’utilisateur ou le mot de passe est incorrect.');
    const consent = await browser.submit(wrong, parseForm(wrong.html), ERIN);
    expect(consent.html).toContain('<html lang="fr">');
    expect(consent.html).toContain('<h1>Autoriser l’accès ?</h1>');
    expect(consent.html).toContain('Single-Page App demande à :');
    expect(scopeItems(consent.html)).toEqual(['Confirmer votre identité', 'Voir votre adresse e-mail']);
    expect(consent.html).toContain('class="secondary">Refuser</button>');
    expect(consent.html).toContain('class="primary">Autoriser</button>');
  });

  it('renders error pages from Accept-Language', async () => {
    const page = await new Browser(undefined, 'fr').get(url('nobody'));
    expect(page.status).toBe(400);
    expect(page.html).toContain('<html lang="fr">');
    expect(page.html).toContain('<h1>Une erreur est survenue</h1>');
  });
});

describe('the SSO session (OIDC Core §3.1.2.1 prompt and max_age)', () => {
  it('sends a second authorization for the same client straight to the callback, auth_time unchanged', async () => {
    const loginTime = server.clock.now();
    const browser = await signedIn();
    server.clock.advance(30);
    const page = await browser.get(url('web-app', { state: 'again' }));
    expect(page.status).toBe(0);
    expect(browser.redirectStatuses).toEqual([303]); // /auth → callback: no login page in between
    const params = query(page.url);
    expect(params).toEqual({ code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), state: 'again', iss: server.issuer });
    const claims = await idToken('web-app', params.code!);
    expect(claims.auth_time).toBe(loginTime);
    expect(claims.iat).toBe(loginTime + 30);
  });

  it('shows the login page again with prompt=login, and the new login sets a new session and auth_time', async () => {
    const browser = await signedIn();
    const before = browser.cookie('trusty_session');
    server.clock.advance(10);
    const { page, form } = await loginPage(browser, 'web-app', { prompt: 'login' });
    expect(page.html).toContain('<h1>Sign in</h1>');
    const done = await browser.submit(page, form, ALICE);
    expect(done.status).toBe(0);
    expect(browser.cookie('trusty_session')).not.toBe(before);
    expect((await idToken('web-app', query(done.url).code!)).auth_time).toBe(server.clock.now());

    // The replaced session is over: prompt=none with the old cookie finds no one.
    const old = new Browser();
    old.setCookie('trusty_session', before!);
    expect(query((await old.get(url('web-app', { prompt: 'none' }))).url).error).toBe('login_required');
  });

  it('passes through within max_age (elapsed = max_age), asks to log in past it, and reports the new auth_time', async () => {
    const loginTime = server.clock.now();
    const browser = await signedIn();
    server.clock.advance(60);
    const fresh = await browser.get(url('web-app', { max_age: '60' }));
    expect(fresh.status).toBe(0);
    expect(browser.redirectStatuses).toEqual([303]);
    expect((await idToken('web-app', query(fresh.url).code!)).auth_time).toBe(loginTime);

    server.clock.advance(1);
    const { page: stale, form } = await loginPage(browser, 'web-app', { max_age: '60' });
    const done = await browser.submit(stale, form, ALICE);
    expect(done.status).toBe(0);
    expect((await idToken('web-app', query(done.url).code!)).auth_time).toBe(loginTime + 61);
  });

  it('answers prompt=none without a session with login_required, state and iss (303, no page)', async () => {
    const response = await fetch(url('web-app', { prompt: 'none', state: 's0' }), { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const location = response.headers.get('location')!;
    expect(location.startsWith(server.callback('web-app') + '?')).toBe(true);
    expect(query(location)).toEqual({ error: 'login_required', error_description: 'the user is not logged in', state: 's0', iss: server.issuer });
  });

  it('answers prompt=none with a session for web-app with a code', async () => {
    const browser = await signedIn();
    const page = await browser.get(url('web-app', { prompt: 'none' }));
    expect(query(page.url)).toEqual({ code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), state: 'test-state', iss: server.issuer });
  });

  it("answers prompt=none with a session but no consent yet for 'spa' with consent_required, state and iss", async () => {
    const browser = await signedIn(CAROL);
    const page = await browser.get(url('spa', { prompt: 'none', state: 's1' }));
    expect(page.status).toBe(0);
    expect(browser.redirectStatuses).toEqual([303]);
    expect(query(page.url)).toEqual({
      error: 'consent_required',
      error_description: 'the user has not consented to this request',
      state: 's1',
      iss: server.issuer,
    });
  });

  // OIDC Core §3.1.2.1 (errata set 2): "max_age=0 is equivalent to prompt=login", even for a
  // session started this very second (auth_time + 0 < now would let it through).
  it('asks for the password again with max_age=0 even in the second of the login', async () => {
    const browser = await signedIn();
    const page = await browser.get(url('web-app', { max_age: '0' }));
    expect(page.status).toBe(200);
    expect(page.html).toContain('name="password"');
  });

  // The other way round: the password just typed in this interaction satisfies max_age=0, at
  // once (the login POST sends the code) and when the second ticks before the consent page.
  it('issues the code after a password typed under max_age=0, even if a second passed before consent', async () => {
    const direct = await loginPage(new Browser(), 'web-app', { max_age: '0' });
    const done = await direct.browser.submit(direct.page, direct.form, ALICE);
    expect(direct.browser.redirectStatuses).toEqual([303]);
    expect(query(done.url).code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const { browser, page, form } = await loginPage(new Browser(), 'spa', { max_age: '0' });
    const interaction = browser.cookie('trusty_interaction')!;
    const login = await fetch(new URL(form.action, page.url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `trusty_interaction=${interaction}` },
      body: new URLSearchParams({ ...form.fields, ...ERIN }).toString(),
    });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe(`/interaction/${interaction}`);
    server.clock.advance(1);
    const session = setCookies(login.headers, 'trusty_session')[0]!.split(';')[0];
    const cookie = `trusty_interaction=${interaction}; ${session}`;
    const consent = await fetch(new URL(login.headers.get('location')!, page.url), { redirect: 'manual', headers: { cookie } });
    expect(consent.status).toBe(200);
    const html = await consent.text();
    expect(html).toContain('name="decision" value="approve"');
    expect(html).not.toContain('name="password"');
  });
});

describe("the consent page ('spa' requires consent)", () => {
  it('names the client and each requested scope, with the Allow/Deny buttons of CONTRACT.md', async () => {
    const browser = new Browser();
    const { page, form } = await loginPage(browser, 'spa', { scope: 'openid profile email' });
    expect(page.html).toContain('to continue to Single-Page App');
    const consent = await browser.submit(page, form, ERIN);
    expect(consent.status).toBe(200);
    expect(new URL(consent.url).pathname).toBe(new URL(page.url).pathname);
    expect(consent.html).toContain('<h1>Allow access?</h1>');
    expect(consent.html).toContain('<p class="lead">Single-Page App is asking to:</p>');
    expect(scopeItems(consent.html)).toEqual(['Confirm who you are', 'See your name and profile', 'See your email address']);
    const decision = parseForm(consent.html);
    expect(decision.method).toBe('post');
    expect(decision.action).toBe(`${new URL(page.url).pathname}/consent`);
    expect(decision.fields).toEqual({ csrf_token: form.fields.csrf_token });
    expect(decision.buttons).toEqual([
      { name: 'decision', value: 'deny' },
      { name: 'decision', value: 'approve' },
    ]);
    expect(consent.html).toContain('<button type="submit" name="decision" value="deny" class="secondary">Deny</button>');
    expect(consent.html).toContain('<button type="submit" name="decision" value="approve" class="primary">Allow</button>');
  });

  it('refuses a consent post with a wrong csrf_token (403) and still accepts the genuine one', async () => {
    const browser = new Browser();
    const { page, form } = await loginPage(browser, 'spa');
    const consent = await browser.submit(page, form, ERIN);
    const decision = parseForm(consent.html);
    const forged = await browser.submit(consent, { ...decision, fields: { csrf_token: 'x'.repeat(43) } }, { decision: 'approve' });
    expect(forged.status).toBe(403);
    expect(browser.redirectStatuses).toEqual([]);
    expect(forged.html).toContain(BAD_CSRF);
    const denied = await browser.submit(consent, decision, { decision: 'deny' });
    expect(query(denied.url).error).toBe('access_denied');
  });

  it('redirects a denial with access_denied, state and iss, and does not remember it', async () => {
    const browser = new Browser();
    const done = await loginThrough(browser, url('spa', { state: 'no' }), BOB, 'deny');
    expect(browser.redirectStatuses).toEqual([303]);
    expect(done.startsWith(server.callback('spa') + '?')).toBe(true);
    expect(query(done)).toEqual({ error: 'access_denied', error_description: 'the user denied the request', state: 'no', iss: server.issuer });
    const again = await browser.get(url('spa'));
    expect(again.status).toBe(200);
    expect(again.html).toContain('name="decision"');
  });

  it('issues a code on approval and remembers it: the next authorization and the next login skip the page', async () => {
    const browser = new Browser();
    const approved = query(await loginThrough(browser, url('spa', { scope: 'openid profile', state: 'yes' }), DAVE, 'approve'));
    expect(approved).toEqual({ code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), state: 'yes', iss: server.issuer });
    expect((await idToken('spa', approved.code!)).aud).toBe('spa');

    // Same browser (SSO): straight to the callback, even with prompt=none, and for a subset.
    for (const params of [{}, { prompt: 'none' }, { scope: 'openid' }]) {
      const page = await browser.get(url('spa', { scope: 'openid profile', ...params }));
      expect(page.status).toBe(0);
      expect(browser.redirectStatuses).toEqual([303]);
      expect(query(page.url).code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }

    // A new browser: the login page, then the code without the consent page.
    const other = new Browser();
    const { page: login, form } = await loginPage(other, 'spa', { scope: 'openid profile' });
    const done = await other.submit(login, form, DAVE);
    expect(done.status).toBe(0);
    expect(other.redirectStatuses).toEqual([303]); // login POST → callback: nothing left to ask
    expect(query(done.url).code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // A scope not yet granted, or prompt=consent, brings the page back.
    for (const params of [{ scope: 'openid profile email' }, { scope: 'openid', prompt: 'consent' }]) {
      const page = await browser.get(url('spa', params));
      expect(page.status).toBe(200);
      expect(parseForm(page.html).buttons.map((b) => b.value)).toEqual(['deny', 'approve']);
    }
  });
});
