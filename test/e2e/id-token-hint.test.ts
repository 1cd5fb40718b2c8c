import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, loginThrough, parseForm, type Page } from '../support/browser.js';
import { basic, postForm } from '../support/flow.js';
import { ALICE, startServer, WEB_SECRET, type TestServer } from '../support/server.js';

/**
 * id_token_hint at /auth and /par (OIDC Core §3.1.2.1) and /logout (RP-Initiated Logout 1.0 §2–3):
 * an ID token this server issued, checked without trusting a byte of its header, naming the
 * only user whose session may answer the request or be ended.
 */
const SECRET = 'rp-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123';
const BOB = { username: 'bob', password: 'bob-password' } as const;
const CALLBACK = 'http://127.0.0.1:9/rp/callback';
const LOGGED_OUT = 'http://127.0.0.1:9/rp/logged-out';
const NOT_OURS = 'id_token_hint is not an ID token issued by this server';

let server: TestServer;
let listener: Server;
let config: oidc.Configuration;
/** Logout tokens the relying party's back channel received. */
const delivered: string[] = [];
/** One ID token each, from their own browsers. */
let aliceToken: string;
let bobToken: string;

beforeAll(async () => {
  listener = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      delivered.push(new URLSearchParams(body).get('logout_token') ?? '');
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  server = await startServer({
    clients: [
      {
        client_id: 'rp',
        client_secret: SECRET,
        redirect_uris: [CALLBACK],
        post_logout_redirect_uris: [LOGGED_OUT],
        backchannel_logout_uri: `http://127.0.0.1:${(listener.address() as AddressInfo).port}/rp`,
        scope: 'openid profile',
        require_consent: false,
      },
    ],
  });
  config = await oidc.discovery(new URL(server.issuer), 'rp', SECRET, oidc.ClientSecretBasic(SECRET), { execute: [oidc.allowInsecureRequests] });
  aliceToken = (await signIn(ALICE)).idToken;
  bobToken = (await signIn(BOB)).idToken;
});
afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => listener?.close(resolve));
});

/** The code flow with openid-client as the RP, `who` typing their password in `browser` if asked. */
async function signIn(who: { username: string; password: string }, browser = new Browser(), params: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...params,
  });
  const callback = await loginThrough(browser, url.href, who);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier, expectedState: state });
  const claims = tokens.claims()!;
  return { browser, idToken: tokens.id_token!, sub: claims.sub, sid: claims.sid as string };
}

/** An /auth request for rp (state s), `params` added. */
function authUrl(params: Record<string, string>, clientId = 'rp', redirectUri = CALLBACK): string {
  const url = new URL(server.issuer + '/auth');
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 's',
    ...params,
  }).toString();
  return url.href;
}

function callbackParams(page: Page): Record<string, string> {
  expect(page.status, page.html.slice(0, 300)).toBe(0);
  return Object.fromEntries(new URL(page.url).searchParams);
}

function logoutUrl(params: Record<string, string>): string {
  return `${server.issuer}/logout?${new URLSearchParams(params).toString()}`;
}

/** `token` with its header replaced (its signature no longer matches, which must not matter). */
function withHeader(token: string, header: Record<string, unknown>): string {
  const [, payload, signature] = token.split('.') as [string, string, string];
  return `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${payload}.${signature}`;
}

/** Headers an attacker may send: every JSON type where a string belongs. */
function hostileHeaders(): Array<[string, Record<string, unknown>]> {
  const { kid, alg } = decodeProtectedHeader(aliceToken);
  const hostile: unknown[] = [1, {}, true, null, [], ['JWT'], 'at+jwt'];
  return [
    ...hostile.map((typ): [string, Record<string, unknown>] => [`typ ${JSON.stringify(typ)}`, { alg, kid, typ }]),
    ...[1, {}, true, null, [], [kid], { toString: kid }].map((bad): [string, Record<string, unknown>] => [`kid ${JSON.stringify(bad)}`, { alg, kid: bad, typ: 'JWT' }]),
    ...[1, {}, null, ['ES256']].map((bad): [string, Record<string, unknown>] => [`alg ${JSON.stringify(bad)}`, { alg: bad, kid, typ: 'JWT' }]),
    ['no typ', { alg, kid }],
    ['crit', { alg, kid, typ: 'JWT', crit: ['exp'] }],
  ];
}

describe('/auth with id_token_hint and a signed-in user (OIDC Core §3.1.2.1)', () => {
  it('prompt=none with a hint for another user answers login_required', async () => {
    const alice = await signIn(ALICE);
    const page = await alice.browser.get(authUrl({ prompt: 'none', id_token_hint: bobToken }));
    expect(callbackParams(page)).toEqual({
      error: 'login_required',
      error_description: 'the signed-in user is not the subject of id_token_hint',
      state: 's',
      iss: server.issuer,
    });
  });

  it('prompt=none with a hint for the signed-in user answers with a code for them', async () => {
    const alice = await signIn(ALICE);
    const again = await signIn(ALICE, alice.browser, { prompt: 'none', id_token_hint: aliceToken });
    expect(again.sub).toBe(alice.sub);
    expect(again.sid).toBe(alice.sid); // the same session answered: no login
  });

  it('without prompt=none a hint for another user shows the login page, never a code for the signed-in one', async () => {
    const alice = await signIn(ALICE);
    const page = await alice.browser.get(authUrl({ id_token_hint: bobToken }));
    expect(page.status).toBe(200);
    expect(page.html).toContain('name="password"');
    // Bob logs in: the code is his.
    const bob = await signIn(BOB, alice.browser, { id_token_hint: bobToken });
    expect(bob.sub).toBe(decodeJwt(bobToken).sub);
  });

  it('prompt=none with a hint and nobody signed in answers login_required', async () => {
    const page = await new Browser().get(authUrl({ prompt: 'none', id_token_hint: aliceToken }));
    expect(callbackParams(page)).toMatchObject({ error: 'login_required', error_description: 'the user is not logged in' });
  });

  it('a pushed request (PAR) carries the hint the same way', async () => {
    const alice = await signIn(ALICE);
    const push = async (hint: string) => {
      const response = await postForm(
        server.issuer + '/par',
        { client_id: 'rp', redirect_uri: CALLBACK, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's', prompt: 'none', id_token_hint: hint },
        { authorization: basic('rp', SECRET) },
      );
      expect(response.status, JSON.stringify(response.json)).toBe(201);
      return alice.browser.get(`${server.issuer}/auth?${new URLSearchParams({ client_id: 'rp', request_uri: String(response.json.request_uri) }).toString()}`);
    };
    expect(callbackParams(await push(bobToken))).toMatchObject({ error: 'login_required', error_description: 'the signed-in user is not the subject of id_token_hint' });
    expect(callbackParams(await push(aliceToken)).code).toBeTruthy();
  });
});

describe('/auth and /par refuse a hint that is not an ID token of this server issued to the client', () => {
  it('answers invalid_request at the redirect_uri', async () => {
    const alice = await signIn(ALICE);
    const accessToken = (
      await postForm(server.issuer + '/token', { grant_type: 'client_credentials', scope: 'invoices:read' }, { authorization: basic('machine', 'machine-secret-0123456789-abcdefghijklmnopqrstuvwxyz') })
    ).json.access_token as string;
    const [header, payload] = aliceToken.split('.') as [string, string, string];
    const webAppToken = await (async () => {
      const web = await oidc.discovery(new URL(server.issuer), 'web-app', WEB_SECRET, oidc.ClientSecretBasic(WEB_SECRET), { execute: [oidc.allowInsecureRequests] });
      const verifier = oidc.randomPKCECodeVerifier();
      const url = oidc.buildAuthorizationUrl(web, { redirect_uri: server.callback('web-app'), scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'w' });
      const callback = await loginThrough(alice.browser, url.href, ALICE);
      return (await oidc.authorizationCodeGrant(web, new URL(callback), { pkceCodeVerifier: verifier, expectedState: 'w' })).id_token!;
    })();
    const cases: Array<[string, string, string]> = [
      ['not a JWT', 'not-a-jwt', NOT_OURS],
      ['an access token', accessToken, NOT_OURS],
      ['a forged signature', `${header}.${payload}.${'A'.repeat(86)}`, NOT_OURS],
      ['an ID token issued to web-app', webAppToken, 'id_token_hint was not issued to this client'],
      ['a hint longer than any parameter', 'a'.repeat(4097), 'id_token_hint is longer than 4096 characters'],
      ['two parts', `${header}.${payload}`, NOT_OURS],
    ];
    for (const [what, hint, description] of cases) {
      const page = await alice.browser.get(authUrl({ id_token_hint: hint }));
      expect(callbackParams(page), what).toEqual({ error: 'invalid_request', error_description: description, state: 's', iss: server.issuer });
      const pushed = await postForm(
        server.issuer + '/par',
        { client_id: 'rp', redirect_uri: CALLBACK, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', id_token_hint: hint },
        { authorization: basic('rp', SECRET) },
      );
      expect(pushed.status, what).toBe(400);
      expect(pushed.json, what).toEqual({ error: 'invalid_request', error_description: description });
    }
  });

  it('answers 4xx, never 5xx, to hostile headers (typ, kid, alg of every JSON type)', async () => {
    for (const [what, header] of hostileHeaders()) {
      const hint = withHeader(aliceToken, header);
      const page = await new Browser().get(authUrl({ id_token_hint: hint }));
      expect(callbackParams(page), what).toEqual({ error: 'invalid_request', error_description: NOT_OURS, state: 's', iss: server.issuer });
    }
  });
});

describe('/logout with id_token_hint (RP-Initiated Logout 1.0 §2–3)', () => {
  it('answers 400, never 500, to hostile headers (typ, kid, alg of every JSON type)', async () => {
    for (const [what, header] of hostileHeaders()) {
      for (const method of ['GET', 'POST'] as const) {
        const hint = withHeader(aliceToken, header);
        const response =
          method === 'GET'
            ? await fetch(logoutUrl({ id_token_hint: hint }), { redirect: 'manual' })
            : await fetch(server.issuer + '/logout', { method, redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ id_token_hint: hint }).toString() });
        expect(response.status, `${method} ${what}`).toBe(400);
        expect(await response.text(), `${method} ${what}`).toContain(NOT_OURS);
      }
    }
  });

  it('with a hint for another user: no confirmation, nothing ended, the registered post_logout_redirect_uri honoured', async () => {
    const alice = await signIn(ALICE);
    const page = await alice.browser.get(logoutUrl({ id_token_hint: bobToken, post_logout_redirect_uri: LOGGED_OUT, state: 'x' }));
    expect(page.status).toBe(0);
    expect(page.url).toBe(`${LOGGED_OUT}?state=x`);
    expect(alice.browser.redirectStatuses).toEqual([303]);

    // Even a confirmation posted with alice's own form token (from a page she was shown) ends nothing.
    const own = await alice.browser.get(logoutUrl({ id_token_hint: aliceToken }));
    const form = parseForm(own.html);
    const posted = await alice.browser.submit(own, form, { id_token_hint: bobToken, decision: 'confirm' });
    expect(posted.status).toBe(200);
    expect(posted.html).toContain('You are signed out');

    // Alice is still signed in (prompt=none answers with a code), and no client was told otherwise.
    expect(callbackParams(await alice.browser.get(authUrl({ prompt: 'none' }))).code).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(delivered.filter((token) => decodeJwt(token).sid === alice.sid)).toEqual([]);
  });

  it('with a hint for the signed-in user: the confirmation page as before', async () => {
    const alice = await signIn(ALICE);
    const page = await alice.browser.get(logoutUrl({ id_token_hint: aliceToken, post_logout_redirect_uri: LOGGED_OUT }));
    expect(page.status).toBe(200);
    expect(parseForm(page.html).buttons.map((b) => b.value).sort()).toEqual(['cancel', 'confirm']);
  });
});

describe('an expired hint is still a hint', () => {
  // Runs last: moves the clock past the ID tokens' 600 s.
  it('at /auth with prompt=none and at /logout', async () => {
    const alice = await signIn(ALICE);
    server.clock.advance(601);
    expect(decodeJwt(aliceToken).exp!).toBeLessThan(server.clock.now());
    expect(callbackParams(await alice.browser.get(authUrl({ prompt: 'none', id_token_hint: aliceToken }))).code).toBeTruthy();
    expect(callbackParams(await alice.browser.get(authUrl({ prompt: 'none', id_token_hint: bobToken }))).error).toBe('login_required');
    expect((await alice.browser.get(logoutUrl({ id_token_hint: aliceToken }))).status).toBe(200);
  });
});
