import { existsSync } from 'node:fs';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page, type Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, basic, postForm } from '../support/flow.js';
import { ALICE, WEB_SECRET, startServer, type TestServer } from '../support/server.js';

/**
 * The hosted pages in a real browser (Chromium through playwright-core): what a person sees,
 * reached by label and role as assistive technology would, and what Chromium enforces that a
 * fetch-based client does not (CSP, SameSite cookies, autofocus, form submission). After every
 * flow, each provider page it showed carried the Content-Security-Policy and none reported a
 * violation or a console error (expectCleanUnderCsp).
 */

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Locally a machine without Chromium skips; CI must have it, so there a missing binary fails.
const skip = !existsSync(CHROMIUM_PATH) && !process.env.CI;

/** Where test relying parties are redirected to; nothing listens, openBrowser() answers for them. */
const RP_ORIGIN = 'http://127.0.0.1:9/';

/** What the relying party answers; the empty icon keeps Chromium from asking it for /favicon.ico. */
const CALLBACK_PAGE = '<!doctype html><link rel="icon" href="data:,"><title>Callback</title><p>back at the relying party</p>';

let server: TestServer;
let browser: Browser | undefined;
const opened: RelyingParty[] = [];

/** What a page reported of a `securitypolicyviolation` event (the CSP refused something). */
interface CspViolation {
  readonly documentURI: string;
  readonly effectiveDirective: string;
  readonly blockedURI: string;
  readonly sample: string;
}

interface RelyingParty {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Every callback URL the browser was redirected to, in order. */
  readonly callbacks: URL[];
  /** Every CSP violation any of the context's documents reported, across navigations. */
  readonly violations: CspViolation[];
  /** Console messages of type error (Chromium also logs each CSP refusal there) and uncaught exceptions. */
  readonly errors: Array<{ text: string; url: string }>;
  /** The provider's HTML documents the browser received (login, consent, error pages). */
  readonly documents: Response[];
}

/** Name of the binding the init script reports violations through (a binding survives navigations). */
const VIOLATION_BINDING = '__trustyCspViolation';

/**
 * Runs in every document before its own content, injected through the DevTools protocol
 * (Page.addScriptToEvaluateOnNewDocument), so the page's CSP does not apply to it. A string, not
 * a function: the test files are compiled without the DOM types.
 */
const REPORT_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (event) => {
  window.${VIOLATION_BINDING}({ documentURI: event.documentURI, effectiveDirective: event.effectiveDirective, blockedURI: event.blockedURI, sample: event.sample });
});`;

/**
 * Chromium's network line for a document served with an error status, e.g. the login form
 * answered 401 after a wrong password: the page means it, nothing failed to load.
 */
const ERROR_STATUS_LINE = /^Failed to load resource: the server responded with a status of (\d{3})\b/;

/**
 * A fresh browser context (no cookies) whose relying-party callbacks are answered with a small page.
 *
 * Not page.route: Playwright never routes the hops of a redirect chain (microsoft/playwright#2617,
 * and `_onRequest` continues any request with `redirectedFrom`), and every callback here is reached
 * by a 303 from the provider, so a route only fires by luck of CDP event order. Chromium's own
 * Fetch domain does pause redirect hops, so the callback is intercepted there instead.
 */
async function openBrowser(options: BrowserContextOptions = {}): Promise<RelyingParty> {
  // Never bypassCSP: the point is that Chromium enforces the provider's policy.
  const context = await browser!.newContext({ locale: 'en-US', ...options });
  const violations: CspViolation[] = [];
  const errors: Array<{ text: string; url: string }> = [];
  const documents: Response[] = [];
  await context.exposeBinding(VIOLATION_BINDING, (_source, violation: CspViolation) => {
    violations.push(violation);
  });
  await context.addInitScript(REPORT_VIOLATIONS);
  context.on('console', (message) => {
    if (message.type() === 'error') errors.push({ text: message.text(), url: message.location().url });
  });
  context.on('weberror', (error) => errors.push({ text: `uncaught: ${error.error().message}`, url: error.page()?.url() ?? '' }));
  context.on('response', (response) => {
    const type = response.headers()['content-type'] ?? '';
    if (response.url().startsWith(server.issuer + '/') && response.request().resourceType() === 'document' && type.startsWith('text/html')) documents.push(response);
  });
  const page = await context.newPage();
  const callbacks: URL[] = [];
  const cdp = await context.newCDPSession(page);
  cdp.on('Fetch.requestPaused', (event) => {
    callbacks.push(new URL(event.request.url));
    // A test may end (closing the context) while Chromium waits on this answer: nothing to do then.
    cdp.send('Fetch.fulfillRequest', {
      requestId: event.requestId,
      responseCode: 200,
      responseHeaders: [{ name: 'content-type', value: 'text/html; charset=utf-8' }],
      body: Buffer.from(CALLBACK_PAGE).toString('base64'),
    }).catch(() => undefined);
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: RP_ORIGIN + '*', requestStage: 'Request' }] });
  const party = { context, page, callbacks, violations, errors, documents };
  opened.push(party);
  return party;
}

/**
 * The pages work under their Content-Security-Policy: every provider page the flow showed
 * carried the header, and no document reported a violation or logged an error. Run after each
 * flow (afterEach), before its context is closed.
 */
async function expectCleanUnderCsp({ violations, errors, documents }: RelyingParty): Promise<void> {
  expect(documents.length, 'the flow showed at least one provider page').toBeGreaterThan(0);
  const served = new Set<string>();
  for (const shown of documents) {
    served.add(`${shown.status()} ${shown.url()}`);
    const csp = await shown.headerValue('content-security-policy');
    expect(csp, `Content-Security-Policy of ${shown.url()}`).toMatch(/(^|;)\s*default-src 'none'\s*(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  }
  expect(violations, 'securitypolicyviolation events').toEqual([]);
  const unexpected = errors.filter(({ text, url }) => {
    const status = ERROR_STATUS_LINE.exec(text)?.[1];
    return status === undefined || !served.has(`${status} ${url}`);
  });
  expect(unexpected, 'console errors').toEqual([]);
}

/** Waits until the page is on a relying party's callback and returns that URL. */
async function reachedCallback(page: Page): Promise<URL> {
  await page.waitForURL((url) => url.href.startsWith(RP_ORIGIN));
  return new URL(page.url());
}

async function pkce() {
  const verifier = oidc.randomPKCECodeVerifier();
  return { verifier, challenge: await oidc.calculatePKCECodeChallenge(verifier) };
}

/** The id of the element that has focus, or null when none does. */
async function focusedId(page: Page): Promise<string | null> {
  const focused = page.locator(':focus');
  return (await focused.count()) === 0 ? null : focused.getAttribute('id');
}

async function signIn(page: Page, credentials: { username: string; password: string }): Promise<void> {
  await page.getByLabel('Username').fill(credentials.username);
  await page.getByLabel('Password').fill(credentials.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe.skipIf(skip)('hosted pages in Chromium', () => {
  beforeAll(async () => {
    [server, browser] = await Promise.all([
      startServer(),
      chromium.launch({
        executablePath: CHROMIUM_PATH,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          // 9 (discard) is on Chromium's restricted-port list (ERR_UNSAFE_PORT); the callbacks use it.
          '--explicitly-allowed-ports=9',
        ],
      }),
    ]);
  }, 60_000);

  afterEach(async () => {
    const parties = opened.splice(0);
    try {
      for (const party of parties) await expectCleanUnderCsp(party);
    } finally {
      await Promise.all(parties.map(({ context }) => context.close()));
    }
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('signs in to web-app, returns code, state and iss, and the code redeems for an id_token with the nonce', async () => {
    const { page, callbacks } = await openBrowser();
    const { verifier, challenge } = await pkce();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();

    await page.goto(authorizationUrl(server, 'web-app', challenge, { state, nonce, scope: 'openid profile' }));
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    // style-src 'self' lets the page's own stylesheet through: its .card rule (max-width: 24rem) applies.
    expect(await page.evaluate("getComputedStyle(document.querySelector('main.card')).maxWidth")).toBe('384px');
    await signIn(page, ALICE);

    const callback = await reachedCallback(page);
    expect(callback.origin + callback.pathname).toBe(server.callback('web-app'));
    expect(callback.searchParams.get('state')).toBe(state);
    // RFC 9207: iss in the authorization response
    expect(callback.searchParams.get('iss')).toBe(server.issuer);
    const code = callback.searchParams.get('code');
    expect(code).toEqual(expect.any(String));
    expect(callbacks).toHaveLength(1);

    const token = await postForm(
      server.issuer + '/token',
      { grant_type: 'authorization_code', code: code!, redirect_uri: server.callback('web-app'), code_verifier: verifier },
      { authorization: basic('web-app', WEB_SECRET) },
    );
    expect(token.status).toBe(200);
    expect(token.json.id_token).toEqual(expect.any(String));
    const jwks = createRemoteJWKSet(new URL(server.issuer + '/.well-known/jwks.json'));
    const { payload } = await jwtVerify(token.json.id_token as string, jwks, { issuer: server.issuer, audience: 'web-app' });
    expect(payload.nonce).toBe(nonce);
  });

  it('asks spa for consent naming the client, then a second authorization goes straight back (SSO, remembered consent)', async () => {
    const { page, callbacks } = await openBrowser();

    await page.goto(authorizationUrl(server, 'spa', (await pkce()).challenge, { scope: 'openid email', state: 'first' }));
    await signIn(page, ALICE);
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    expect(await page.getByText('Single-Page App is asking to:').isVisible()).toBe(true);
    expect(await page.getByRole('listitem').allTextContents()).toEqual(['Confirm who you are', 'See your email address']);
    await page.getByRole('button', { name: 'Allow' }).click();

    const first = await reachedCallback(page);
    expect(first.searchParams.get('state')).toBe('first');
    expect(first.searchParams.get('code')).toEqual(expect.any(String));

    const response = await page.goto(authorizationUrl(server, 'spa', (await pkce()).challenge, { scope: 'openid email', state: 'second' }));
    // No page to answer this time: the navigation itself ends at the callback.
    expect(response?.url().startsWith(server.callback('spa'))).toBe(true);
    const second = new URL(page.url());
    expect(second.searchParams.get('state')).toBe('second');
    expect(second.searchParams.get('code')).toEqual(expect.any(String));
    expect(second.searchParams.get('code')).not.toBe(first.searchParams.get('code'));
    expect(callbacks.map((url) => url.searchParams.get('state'))).toEqual(['first', 'second']);
  });

  it('shows a wrong password as a visible alert, keeps the form usable, then accepts the right password', async () => {
    const { page } = await openBrowser();
    await page.goto(authorizationUrl(server, 'web-app', (await pkce()).challenge));
    await signIn(page, { username: ALICE.username, password: 'not-the-password' });

    const alert = page.getByRole('alert');
    await alert.waitFor({ state: 'visible' });
    expect(await alert.textContent()).toBe('The username or password is incorrect.');
    const username = page.getByLabel('Username');
    const password = page.getByLabel('Password');
    // The error is tied to the field (read out with it), the username is kept, the password is not.
    expect(await username.getAttribute('aria-describedby')).toBe(await alert.getAttribute('id'));
    expect(await username.inputValue()).toBe(ALICE.username);
    expect(await password.inputValue()).toBe('');
    await page.locator('#username:focus').waitFor({ timeout: 5_000 }); // autofocus, again
    expect(await username.isEditable()).toBe(true);
    expect(await password.isEditable()).toBe(true);

    await password.fill(ALICE.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect((await reachedCallback(page)).searchParams.get('code')).toEqual(expect.any(String));
  });

  it('shows the French page to a browser set to fr-FR', async () => {
    const { page } = await openBrowser({ locale: 'fr-FR' });
    await page.goto(authorizationUrl(server, 'web-app', (await pkce()).challenge));

    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Connexion');
    await page.getByLabel('Nom d’utilisateur').fill(ALICE.username);
    await page.getByLabel('Mot de passe').fill(ALICE.password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    expect((await reachedCallback(page)).searchParams.get('code')).toEqual(expect.any(String));
  });

  it('reports what the policy refuses (the check after each flow is not blind)', async () => {
    const { page, violations, errors } = await openBrowser();
    await page.goto(authorizationUrl(server, 'web-app', (await pkce()).challenge));
    // An inline style, as injected markup would add: style-src 'self' refuses it.
    await page.evaluate("document.head.append(Object.assign(document.createElement('style'), { textContent: 'body { color: red }' }))");
    await expect.poll(() => violations.map((v) => v.effectiveDirective)).toEqual(['style-src-elem']);
    expect(violations[0]?.documentURI).toBe(page.url());
    await expect.poll(() => errors.map((e) => e.text)).toEqual([expect.stringContaining('Content Security Policy')]);
    // Seen: cleared so that the check after the test passes.
    violations.length = 0;
    errors.length = 0;
  });

  it('can be completed with the keyboard alone', async () => {
    const { page } = await openBrowser();
    await page.goto(authorizationUrl(server, 'web-app', (await pkce()).challenge));

    // On arrival the caret is in the username field (autofocus): a keyboard user starts typing.
    // Chromium runs autofocus after load, hence the wait.
    await page.locator('#username:focus').waitFor({ timeout: 5_000 });
    await page.keyboard.type(ALICE.username);
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('password');
    // Shift+Tab goes back: the two fields are adjacent in the tab order both ways.
    await page.keyboard.press('Shift+Tab');
    expect(await focusedId(page)).toBe('username');
    await page.keyboard.press('Tab');
    await page.keyboard.type(ALICE.password);
    await page.keyboard.press('Enter');

    expect((await reachedCallback(page)).searchParams.get('code')).toEqual(expect.any(String));
  });
});
