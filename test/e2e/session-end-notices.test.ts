import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBackchannel } from '../support/backchannel.js';
import { Browser, parseForm } from '../support/browser.js';
import { openidCodeFlow } from '../support/flow.js';
import { startServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

/**
 * OIDC Back-Channel Logout 1.0 §2.4–2.5: every end of an SSO session reaches the clients it
 * logged in to, once — logout, replacement by a new login in the same browser, and expiry
 * (found by the purge job). A real HTTP listener plays the relying parties' back channel.
 */
const SECRET = 'rp-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** config session.ttl's default. */
const SESSION_TTL = 28800;

let server: TestServer;
let backchannel: Awaited<ReturnType<typeof startBackchannel>>;
let jwks: ReturnType<typeof createRemoteJWKSet>;
const deliveries = () => backchannel.deliveries;

beforeAll(async () => {
  backchannel = await startBackchannel();
  const rp = (id: string, withBackchannel = true) => ({
    client_id: id,
    client_secret: SECRET,
    redirect_uris: [`http://127.0.0.1:9/${id}/callback`],
    post_logout_redirect_uris: [`http://127.0.0.1:9/${id}/logged-out`],
    ...(withBackchannel ? { backchannel_logout_uri: `${backchannel.url}/${id}` } : {}),
    scope: 'openid profile email',
    require_consent: false,
  });
  server = await startServer({ clients: [rp('rp'), rp('rp2'), rp('silent', false)] });
  jwks = createRemoteJWKSet(new URL(server.issuer + '/.well-known/jwks.json'));
});
afterAll(async () => {
  await server?.close();
  await backchannel?.close();
});

/** openid-client as the relying party, its clock set to the server's (tests move it). */
async function client(clientId: string) {
  return oidc.discovery(new URL(server.issuer), clientId, { [oidc.clockSkew]: server.clock.now() - Math.floor(Date.now() / 1000) }, oidc.ClientSecretBasic(SECRET), {
    execute: [oidc.allowInsecureRequests],
  });
}

/** Alice signs in to `clientId` in `browser` (a live session there is reused: SSO). */
async function signIn(clientId: string, browser: Browser, params: Record<string, string> = {}) {
  const { tokens } = await openidCodeFlow(await client(clientId), `http://127.0.0.1:9/${clientId}/callback`, { browser, params });
  const claims = tokens.claims()!;
  expect(typeof claims.sid).toBe('string');
  return { idToken: tokens.id_token!, sid: claims.sid as string, sub: claims.sub };
}

function authorizationUrlFor(clientId: string, params: Record<string, string> = {}) {
  const url = new URL(`${server.issuer}/auth`);
  const all = { client_id: clientId, redirect_uri: `http://127.0.0.1:9/${clientId}/callback`, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', ...params };
  for (const [k, v] of Object.entries(all)) url.searchParams.set(k, v);
  return url.href;
}

function deliveredFor(path: string, sid: string) {
  return deliveries().filter((d) => d.path === path && decodeJwt(d.logoutToken).sid === sid);
}

/** Back-Channel Logout §2.6, as a relying party checks it, at the server's time. */
async function verifyLogoutToken(token: string, audience: string) {
  const { payload, protectedHeader } = await jwtVerify<JWTPayload & { sid?: string; events?: Record<string, unknown> }>(token, jwks, {
    issuer: server.issuer,
    audience,
    typ: 'logout+jwt',
    currentDate: new Date(server.clock.now() * 1000),
    requiredClaims: ['iat', 'exp', 'jti', 'sub', 'sid', 'events'],
  });
  expect(protectedHeader.typ).toBe('logout+jwt');
  expect(payload).not.toHaveProperty('nonce');
  return payload;
}

/** Lets background deliveries land, so "nothing else was sent" means something. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

async function confirmLogout(browser: Browser, idToken: string) {
  const page = await browser.get(`${server.issuer}/logout?${new URLSearchParams({ id_token_hint: idToken }).toString()}`);
  return browser.submit(page, parseForm(page.html), { decision: 'confirm' });
}

describe('a login that replaces the browser’s session', () => {
  it('keeps the session’s sid and clients, and tells no client, when the same user logs in again (prompt=login)', async () => {
    const browser = new Browser();
    const first = await signIn('rp', browser);
    const firstCookie = browser.cookie('trusty_session')!;

    // prompt=login: alice types her password again, for rp2. Her other relying parties stay signed in.
    const second = await signIn('rp2', browser, { prompt: 'login' });
    expect(second.sid).toBe(first.sid);
    expect(second.sub).toBe(first.sub);
    // A fresh cookie value all the same (no session fixation): the old one no longer signs anyone in.
    const secondCookie = browser.cookie('trusty_session')!;
    expect(secondCookie).not.toBe(firstCookie);
    const stale = await fetch(authorizationUrlFor('rp', { prompt: 'none' }), { redirect: 'manual', headers: { cookie: `trusty_session=${firstCookie}` } });
    expect(new URL(stale.headers.get('location')!).searchParams.get('error')).toBe('login_required');
    await settle();
    expect(deliveredFor('/rp', first.sid)).toEqual([]);
    expect(deliveredFor('/rp2', first.sid)).toEqual([]);

    // max_age=0 the same way.
    expect((await signIn('rp', browser, { max_age: '0' })).sid).toBe(first.sid);
    await settle();
    expect(deliveredFor('/rp', first.sid)).toEqual([]);

    // The later logout tells both clients, about the one sid, once each.
    await confirmLogout(browser, second.idToken);
    for (const [path, audience] of [['/rp', 'rp'], ['/rp2', 'rp2']] as const) {
      const delivery = await eventually(() => deliveredFor(path, first.sid)[0], `the logout token for ${audience}`);
      const payload = await verifyLogoutToken(delivery.logoutToken, audience);
      expect(payload.sid).toBe(first.sid);
      expect(payload.sub).toBe(first.sub);
      expect(payload.events).toEqual({ [BACKCHANNEL_EVENT]: {} });
    }
    await settle();
    expect(deliveredFor('/rp', first.sid)).toHaveLength(1);
    expect(deliveredFor('/rp2', first.sid)).toHaveLength(1);
    expect(deliveries().filter((d) => d.path === '/silent')).toEqual([]);
  });

  it('tells the clients of a session another user signed in over', async () => {
    const browser = new Browser();
    const alice = await signIn('rp2', browser);
    // Bob signs in with the same browser: alice's session ends.
    const url = new URL(`${server.issuer}/auth`);
    for (const [k, v] of Object.entries({ client_id: 'rp', redirect_uri: 'http://127.0.0.1:9/rp/callback', response_type: 'code', scope: 'openid', prompt: 'login', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) {
      url.searchParams.set(k, v);
    }
    const login = await browser.get(url.href);
    const done = await browser.submit(login, parseForm(login.html), { username: 'bob', password: 'bob-password' });
    expect(new URL(done.url).searchParams.get('code')).toBeTruthy();
    const delivery = await eventually(() => deliveredFor('/rp2', alice.sid)[0], 'the logout token for alice’s session');
    expect((await verifyLogoutToken(delivery.logoutToken, 'rp2')).sub).toBe(alice.sub);
  });
});

describe('logout', () => {
  it('sends one logout token per client when the confirmation is posted three times at once', async () => {
    const browser = new Browser();
    const { idToken, sid } = await signIn('rp', browser);
    const page = await browser.get(`${server.issuer}/logout?${new URLSearchParams({ id_token_hint: idToken }).toString()}`);
    const form = parseForm(page.html);
    const cookie = browser.cookie('trusty_session')!;
    const post = () =>
      fetch(server.issuer + '/logout', {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `trusty_session=${cookie}` },
        body: new URLSearchParams({ ...form.fields, decision: 'confirm' }).toString(),
      });
    const answers = await Promise.all([post(), post(), post()]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    await eventually(() => deliveredFor('/rp', sid)[0], 'the logout token');
    await settle();
    expect(deliveredFor('/rp', sid)).toHaveLength(1);
  });
});

describe('expiry', () => {
  // Runs last: it moves the clock past every session's lifetime.
  it('the purge tells the clients of expired sessions once, and never those of sessions already ended', async () => {
    const another = await signIn('rp', new Browser());
    const endedBrowser = new Browser();
    const loggedOut = await signIn('rp', endedBrowser);
    await confirmLogout(endedBrowser, loggedOut.idToken);
    await eventually(() => deliveredFor('/rp', loggedOut.sid)[0], 'the logout token');
    const browser = new Browser();
    const expiring = await signIn('rp', browser);
    await signIn('rp2', browser);

    server.clock.advance(SESSION_TTL - 10);
    await server.trusty.purge(); // not expired yet: nothing sent
    await settle();
    expect(deliveredFor('/rp', expiring.sid)).toEqual([]);

    server.clock.advance(11);
    await server.trusty.purge();
    for (const [path, audience] of [['/rp', 'rp'], ['/rp2', 'rp2']] as const) {
      const delivery = await eventually(() => deliveredFor(path, expiring.sid)[0], `the logout token for ${audience}`);
      const payload = await verifyLogoutToken(delivery.logoutToken, audience);
      expect(payload.sid).toBe(expiring.sid);
      expect(payload.sub).toBe(expiring.sub);
      expect(payload.events).toEqual({ [BACKCHANNEL_EVENT]: {} });
    }
    await eventually(() => deliveredFor('/rp', another.sid)[0], 'the logout token of the other expired session');

    await server.trusty.purge();
    await settle();
    expect(deliveredFor('/rp', expiring.sid)).toHaveLength(1);
    expect(deliveredFor('/rp2', expiring.sid)).toHaveLength(1);
    expect(deliveredFor('/rp', loggedOut.sid)).toHaveLength(1); // ended by logout: not again at expiry
  });
});

describe('expiry during a purge', () => {
  // After 'expiry': the clock is already past every earlier session's lifetime.
  it('tells the clients of a session that expires while the purge runs (one time for the whole purge)', async () => {
    const browser = new Browser();
    const expiring = await signIn('rp', browser);
    server.clock.advance(SESSION_TTL - 1); // it expires in one second
    // The purge takes a second: every read of the clock after its first is one second later.
    const base = server.clock.now();
    let reads = 0;
    const ticking = vi.spyOn(server.clock, 'now').mockImplementation(() => (reads++ === 0 ? base : base + 1));
    try {
      await server.trusty.purge();
    } finally {
      ticking.mockRestore();
    }
    server.clock.advance(1);
    await server.trusty.purge();
    const delivery = await eventually(() => deliveredFor('/rp', expiring.sid)[0], 'the logout token of the session that expired during the purge');
    expect((await verifyLogoutToken(delivery.logoutToken, 'rp')).sid).toBe(expiring.sid);
  });
});
