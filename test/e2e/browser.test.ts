import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { chromium, type Browser as Chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, basic, postForm } from '../support/flow.js';
import { WEB_SECRET, startServer, type TestServer } from '../support/server.js';

/** The hosted pages in a real browser: Debian's Chromium driven by playwright-core. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`Chromium is required in CI: ${CHROMIUM} not found (apt-get install chromium)`);
if (!available) console.warn(`browser tests skipped: ${CHROMIUM} not found (apt-get install chromium, or set CHROMIUM_PATH)`);

let server: TestServer;
let browser: Chromium;
/** The relying party: a real listener the browser is redirected to (Playwright does not intercept redirects). */
let rp: Server;
let rpBase = '';
let pending: ((url: URL) => void) | undefined;

beforeAll(async () => {
  if (!available) return;
  rp = createServer((request, response) => {
    const url = new URL(request.url ?? '/', rpBase);
    // The browser also asks the RP for /favicon.ico: only callbacks count.
    if (!url.pathname.endsWith('/callback')) return response.writeHead(404).end();
    pending?.(url);
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>callback</title><p>back at the app</p>');
  });
  await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve));
  rpBase = `http://127.0.0.1:${(rp.address() as AddressInfo).port}`;
  server = await startServer({
    clients: [
      { client_id: 'browser-web', client_secret: WEB_SECRET, redirect_uris: [`${rpBase}/web/callback`], scope: 'openid profile', require_consent: false },
      { client_id: 'browser-spa', client_name: 'Single-Page App', token_endpoint_auth_method: 'none', redirect_uris: [`${rpBase}/spa/callback`], scope: 'openid profile' },
    ],
  });
  // Playwright gives the browser a fresh, empty profile; the flags keep it off the (closed) network.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await new Promise((resolve) => rp?.close(resolve));
});

/** A fresh browser context; nextCallback() resolves with the next URL the relying party receives. */
async function pageWithCallback(locale = 'en-US') {
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  const nextCallback = () => new Promise<URL>((resolve) => (pending = resolve));
  return { page, context, nextCallback };
}

/** An /auth URL for the browser clients, whose redirect_uri is the listener. */
function authUrl(client: 'web' | 'spa', challenge: string, params: Record<string, string> = {}) {
  const url = new URL(authorizationUrl(server, `browser-${client}`, challenge, params));
  url.searchParams.set('redirect_uri', `${rpBase}/${client}/callback`);
  return url.href;
}

async function signIn(page: Page, username: string, password: string) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe.skipIf(!available)('hosted pages in Chromium', () => {
  it('signs in to a confidential client: code, state and iss come back, and the code redeems for an id_token with the nonce', async () => {
    const { page, context, nextCallback } = await pageWithCallback();
    const verifier = oidc.randomPKCECodeVerifier();
    const callback = nextCallback();
    await page.goto(authUrl('web', await oidc.calculatePKCECodeChallenge(verifier), { state: 'st-1', nonce: 'n-1', scope: 'openid profile' }));
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    await signIn(page, 'alice', 'alice-password');
    const url = await callback;
    expect(url.searchParams.get('state')).toBe('st-1');
    expect(url.searchParams.get('iss')).toBe(server.issuer);
    const tokens = await postForm(
      server.issuer + '/token',
      { grant_type: 'authorization_code', code: url.searchParams.get('code')!, redirect_uri: `${rpBase}/web/callback`, code_verifier: verifier },
      { authorization: basic('browser-web', WEB_SECRET) },
    );
    expect(decodeJwt(String(tokens.json.id_token)).nonce).toBe('n-1');
    await context.close();
  });

  it('asks for consent once, then signs in silently (SSO and remembered consent)', async () => {
    const { page, context, nextCallback } = await pageWithCallback();
    const challenge = await oidc.calculatePKCECodeChallenge('c'.repeat(43));
    let callback = nextCallback();
    await page.goto(authUrl('spa', challenge, { scope: 'openid profile' }));
    await signIn(page, 'alice', 'alice-password');
    await expect(page.getByText('Single-Page App is asking to:').isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Allow' }).click();
    expect((await callback).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    callback = nextCallback();
    await page.goto(authUrl('spa', challenge, { scope: 'openid profile', state: 'silent' }));
    const silent = await callback;
    expect(silent.searchParams.get('state')).toBe('silent');
    expect(silent.searchParams.get('code')).not.toBeNull();
    await context.close();
  });

  it('shows a wrong password as an alert, keeps the username, then accepts the right one', async () => {
    const { page, context, nextCallback } = await pageWithCallback();
    const callback = nextCallback();
    await page.goto(authUrl('web', await oidc.calculatePKCECodeChallenge('w'.repeat(43))));
    await signIn(page, 'alice', 'not-her-password');
    await expect(page.getByRole('alert').textContent()).resolves.toBe('The username or password is incorrect.');
    await expect(page.getByLabel('Username').inputValue()).resolves.toBe('alice');
    await page.getByLabel('Password').fill('alice-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect((await callback).searchParams.get('code')).not.toBeNull();
    await context.close();
  });

  it('speaks French to a French browser', async () => {
    const { page, context } = await pageWithCallback('fr-FR');
    await page.goto(authUrl('web', await oidc.calculatePKCECodeChallenge('f'.repeat(43))));
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('fr');
    await expect(page.getByRole('heading', { name: 'Connexion' }).isVisible()).resolves.toBe(true);
    await expect(page.getByLabel('Mot de passe').isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('can be used with the keyboard alone', async () => {
    const { page, context, nextCallback } = await pageWithCallback();
    const callback = nextCallback();
    await page.goto(authUrl('web', await oidc.calculatePKCECodeChallenge('k'.repeat(43))));
    // The username field has focus on arrival (autofocus), once the page is the active tab.
    await page.bringToFront();
    await page.waitForFunction("document.activeElement && document.activeElement.id === 'username'", undefined, { timeout: 5000 });
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    await page.keyboard.type('alice-password');
    await page.keyboard.press('Enter');
    expect((await callback).searchParams.get('code')).not.toBeNull();
    await context.close();
  });
});
