import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, loginThrough, parseForm, type Page } from '../support/browser.js';
import { basic, obtainCode, postForm } from '../support/flow.js';
import { ALICE, startServer, type TestServer } from '../support/server.js';

/** RP-initiated logout 1.0 and back-channel logout 1.0. */
const SECRET = 'rp-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123';
let server: TestServer;
let listener: Server;
const received: string[] = [];
let answer = 200;
const LOGGED_OUT = 'http://127.0.0.1:9/rp/logged-out';

beforeAll(async () => {
  listener = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (answer === 200) received.push(new URLSearchParams(body).get('logout_token') ?? '');
      response.writeHead(answer).end();
      answer = 200;
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as AddressInfo).port;
  server = await startServer({
    clients: [
      {
        client_id: 'rp',
        client_secret: SECRET,
        redirect_uris: ['http://127.0.0.1:9/rp/callback'],
        post_logout_redirect_uris: [LOGGED_OUT],
        backchannel_logout_uri: `http://127.0.0.1:${port}/backchannel`,
        scope: 'openid profile',
        require_consent: false,
      },
    ],
  });
});
afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => listener?.close(resolve));
});

/** Alice signs in to rp; returns her browser and ID token. */
async function signedIn() {
  const browser = new Browser();
  const { code, verifier, redirectUri } = await obtainCode(server, 'rp', { scope: 'openid' }, browser);
  const tokens = await postForm(server.issuer + '/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri }, { authorization: basic('rp', SECRET) });
  return { browser, idToken: String(tokens.json.id_token) };
}

function logoutUrl(params: Record<string, string>) {
  return `${server.issuer}/logout?${new URLSearchParams(params).toString()}`;
}

async function confirm(browser: Browser, page: Page, decision: 'confirm' | 'cancel' = 'confirm') {
  return browser.submit(page, parseForm(page.html), { decision });
}

async function waitForLogoutToken(count: number): Promise<string> {
  for (let i = 0; i < 100 && received.length < count; i++) await new Promise((r) => setTimeout(r, 20));
  expect(received.length).toBe(count);
  return received[count - 1]!;
}

describe('RP-initiated logout', () => {
  it('asks for confirmation, ends the session, redirects to the registered URI with state, and notifies the RP', async () => {
    const { browser, idToken } = await signedIn();
    const before = received.length;
    const page = await browser.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: LOGGED_OUT, state: 'xyz' }));
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const form = parseForm(page.html);
    expect(form.buttons).toEqual([
      { name: 'decision', value: 'cancel' },
      { name: 'decision', value: 'confirm' },
    ]);
    expect(form.fields.csrf_token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const done = await confirm(browser, page);
    expect(done.status).toBe(0);
    expect(done.url).toBe(`${LOGGED_OUT}?state=xyz`);
    expect(browser.redirectStatuses).toEqual([303]);
    expect(browser.cookie('trusty_session')).toBeUndefined();

    // Back-channel logout token (OIDC Back-Channel Logout §2.4)
    const logoutToken = await waitForLogoutToken(before + 1);
    const jwks = createRemoteJWKSet(new URL(server.issuer + '/.well-known/jwks.json'));
    const { payload, protectedHeader } = await jwtVerify(logoutToken, jwks, { issuer: server.issuer, audience: 'rp', typ: 'logout+jwt' });
    const id = decodeJwt(idToken);
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload.sub).toBe(id.sub);
    expect(payload.sid).toBe(id.sid);
    expect(typeof payload.sid).toBe('string');
    expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
    expect(payload.nonce).toBeUndefined();
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(120);

    // The next authorization request shows the login page again.
    const next = await browser.get(`${server.issuer}/auth?${new URLSearchParams({ client_id: 'rp', redirect_uri: 'http://127.0.0.1:9/rp/callback', response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`);
    expect(next.status).toBe(200);
    expect(next.html).toContain('name="password"');
  });

  it('does not redirect to an unregistered post_logout_redirect_uri', async () => {
    const { browser, idToken } = await signedIn();
    const page = await browser.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/', state: 's' }));
    const done = await confirm(browser, page);
    expect(done.status).toBe(200);
    expect(done.html).toContain('You are signed out');
  });

  it('keeps the session when the user cancels', async () => {
    const { browser, idToken } = await signedIn();
    const page = await browser.get(logoutUrl({ id_token_hint: idToken }));
    const cancelled = await confirm(browser, page, 'cancel');
    expect(cancelled.html).toContain('You are still signed in');
    const again = await loginThrough(browser, `${server.issuer}/auth?${new URLSearchParams({ client_id: 'web-app', redirect_uri: server.callback('web-app'), response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`, ALICE);
    expect(browser.redirectStatuses.length).toBeGreaterThan(0);
    expect(new URL(again).searchParams.get('code')).not.toBeNull();
  });

  it('refuses a forged confirmation (wrong csrf_token) with 403 and keeps the session', async () => {
    const { browser, idToken } = await signedIn();
    const page = await browser.get(logoutUrl({ id_token_hint: idToken }));
    const form = parseForm(page.html);
    const forged = await browser.submit(page, { ...form, fields: { ...form.fields, csrf_token: 'x'.repeat(43) } }, { decision: 'confirm' });
    expect(forged.status).toBe(403);
    expect(browser.cookie('trusty_session')).toBeDefined();
  });

  it('accepts an expired id_token_hint, and refuses a forged one or a mismatched client_id', async () => {
    const { browser, idToken } = await signedIn();
    server.clock.advance(700);
    expect((await browser.get(logoutUrl({ id_token_hint: idToken }))).status).toBe(200);
    const forged = await browser.get(logoutUrl({ id_token_hint: idToken.slice(0, -4) + 'AAAA' }));
    expect(forged.status).toBe(400);
    expect(forged.html).toContain('id_token_hint is not an ID token issued by this server');
    const mismatch = await browser.get(logoutUrl({ id_token_hint: idToken, client_id: 'web-app' }));
    expect(mismatch.status).toBe(400);
    expect(mismatch.html).toContain('client_id does not match the audience of id_token_hint');
  });

  it('without a session, goes straight to the registered URI', async () => {
    const page = await new Browser().get(logoutUrl({ client_id: 'rp', post_logout_redirect_uri: LOGGED_OUT, state: 'gone' }));
    expect(page.status).toBe(0);
    expect(page.url).toBe(`${LOGGED_OUT}?state=gone`);
  });

  it('speaks French with ui_locales=fr', async () => {
    const { browser, idToken } = await signedIn();
    const page = await browser.get(logoutUrl({ id_token_hint: idToken, ui_locales: 'fr' }));
    expect(page.html).toContain('<html lang="fr">');
    expect(page.html).toContain('Se déconnecter ?');
  });

  it('does not make the user wait for a failing relying party, and retries it', async () => {
    const { browser, idToken } = await signedIn();
    const before = received.length;
    answer = 500;
    const page = await browser.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: LOGGED_OUT }));
    const started = Date.now();
    const done = await confirm(browser, page);
    expect(done.url).toBe(LOGGED_OUT);
    expect(Date.now() - started).toBeLessThan(500);
    // The first attempt got 500; the retry a second later is accepted.
    for (let i = 0; i < 150 && received.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(received.length).toBe(before + 1);
  });
});

