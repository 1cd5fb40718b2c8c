import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, loginThrough, parseForm } from '../support/browser.js';
import { TestClock } from '../support/clock.js';
import { basic, postForm } from '../support/flow.js';
import { WEB_SECRET, freePort, startServerAt, type TestServer } from '../support/server.js';

/**
 * Contract: clients and users declared in config.yaml are owned by the file; removing one
 * disables it at the next start (its row stays), and declaring it again enables it with the
 * same sub. Three starts on one SQLite file: declared, removed, declared again.
 */
const LEAVER_SECRET = 'leaver-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const GATEWAY_SECRET = 'gateway-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const API = 'https://ledger.example.com/';
const CAROL = { username: 'carol', password: 'carol-password' } as const;
const callback = (id: string) => `http://127.0.0.1:9/${id}/callback`;

const LEAVER = {
  client_id: 'leaver',
  client_secret: LEAVER_SECRET,
  redirect_uris: [callback('leaver')],
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  scope: 'openid profile offline_access ledger:read',
  resources: [API],
  require_consent: false,
};
/** A resource server registered for the ledger API: RFC 7662 §4, it may introspect tokens whose audience is API. */
const GATEWAY = { client_id: 'gateway', client_secret: GATEWAY_SECRET, grant_types: [], resource_server: true, introspection_audiences: [API] };
const CAROL_ENTRY = { ...CAROL, claims: { name: 'Carol Petit' } };

const dir = mkdtempSync(join(tmpdir(), 'trusty-removal-'));
let port = 0;
let issuer = '';
let server: TestServer | undefined;
/** Each start runs 5 s after the previous one, so issuing, removing and declaring again are distinct seconds. */
let elapsed = 0;

/** Starts Trusty on the same port and SQLite file each time, with the listed extras declared. */
async function start(declare: { leaver: boolean; carol: boolean }): Promise<void> {
  await server?.close();
  const clock = new TestClock();
  clock.advance(elapsed);
  elapsed += 5;
  server = await startServerAt(port, dir, { extra: { clients: [GATEWAY, ...(declare.leaver ? [LEAVER] : [])], users: declare.carol ? [CAROL_ENTRY] : [] }, clock });
}

const asLeaver = () => ({ authorization: basic('leaver', LEAVER_SECRET) });
const asGateway = () => ({ authorization: basic('gateway', GATEWAY_SECRET) });
const asWebApp = () => ({ authorization: basic('web-app', WEB_SECRET) });
const token = (form: Record<string, string>, headers: Record<string, string>) => postForm(issuer + '/token', form, headers);
const introspect = (value: string, headers: Record<string, string>) => postForm(issuer + '/introspect', { token: value }, headers);

async function userinfo(accessToken: string) {
  const response = await fetch(issuer + '/userinfo', { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** The code flow for one client and user, with offline_access: the access and refresh tokens. */
async function codeFlow(clientId: string, secret: string, user: { username: string; password: string }, browser = new Browser()) {
  const config = await oidc.discovery(new URL(issuer), clientId, undefined, oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: callback(clientId),
    scope: 'openid profile offline_access',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const landed = await loginThrough(browser, url.href, user);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed), { pkceCodeVerifier: verifier, expectedState: state });
  return { access: tokens.access_token, refresh: tokens.refresh_token!, sub: decodeJwt(tokens.access_token).sub! };
}

function loginUrl(): string {
  const url = new URL(issuer + '/auth');
  for (const [k, v] of Object.entries({ client_id: 'web-app', redirect_uri: callback('web-app'), response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) {
    url.searchParams.set(k, v);
  }
  return url.href;
}

async function scopesSupported(): Promise<string[]> {
  const response = await fetch(issuer + '/.well-known/openid-configuration');
  return ((await response.json()) as { scopes_supported: string[] }).scopes_supported;
}

function rows() {
  const db = new Database(join(dir, 'trusty.db'), { readonly: true, fileMustExist: true });
  try {
    return {
      client: db.prepare("SELECT source, disabled_at FROM clients WHERE client_id = 'leaver'").get() as { source: string; disabled_at: number | null },
      user: db.prepare("SELECT id, source, disabled_at FROM users WHERE username = 'carol'").get() as { id: string; source: string; disabled_at: number | null },
      disabledEvents: db.prepare("SELECT event, client_id, user_id, details FROM audit_log WHERE event LIKE '%.disabled' ORDER BY id").all(),
    };
  } finally {
    db.close();
  }
}

/** What the first start handed out, used after the removal. */
let issued: {
  machine: string;
  leaverForAlice: { access: string; refresh: string };
  webAppForCarol: { access: string; refresh: string; sub: string };
  /** Carol's browser, signed in (its session cookie) before the removal. */
  carolBrowser: Browser;
};

beforeAll(async () => {
  port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  await start({ leaver: true, carol: true });
  const cc = await token({ grant_type: 'client_credentials', scope: 'ledger:read', resource: API }, asLeaver());
  expect(cc.status).toBe(200);
  const machine = String(cc.json.access_token);
  expect(await introspect(machine, asGateway())).toMatchObject({ status: 200, json: { active: true, client_id: 'leaver', sub: 'leaver' } });
  const leaverForAlice = await codeFlow('leaver', LEAVER_SECRET, { username: 'alice', password: 'alice-password' });
  const carolBrowser = new Browser();
  const webAppForCarol = await codeFlow('web-app', WEB_SECRET, CAROL, carolBrowser);
  expect(carolBrowser.cookie('trusty_session')).toBeDefined();
  expect((await userinfo(webAppForCarol.access)).json).toMatchObject({ sub: webAppForCarol.sub, name: 'Carol Petit' });
  expect((await introspect(webAppForCarol.access, asWebApp())).json).toMatchObject({ active: true, sub: webAppForCarol.sub });
  expect(await scopesSupported()).toContain('ledger:read');
  issued = { machine, leaverForAlice, webAppForCarol, carolBrowser };
  await start({ leaver: false, carol: false });
}, 30_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a client removed from config.yaml, after a restart', () => {
  it('fails client authentication: client_credentials answers invalid_client', async () => {
    const answer = await token({ grant_type: 'client_credentials', scope: 'ledger:read' }, asLeaver());
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe(`Basic realm="${issuer}"`);
    expect(answer.json).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
  });

  it('has its access tokens introspect inactive, even for a resource server allowed for their audience', async () => {
    expect(await introspect(issued.machine, asGateway())).toMatchObject({ status: 200, json: { active: false } });
    expect((await introspect(issued.machine, asGateway())).json).toEqual({ active: false });
  });

  it('has its access tokens refused at /userinfo', async () => {
    expect(await userinfo(issued.leaverForAlice.access)).toEqual({
      status: 401,
      json: { error: 'invalid_token', error_description: 'the client of this access token is disabled' },
    });
  });

  it('has its refresh tokens refused (the client no longer authenticates)', async () => {
    const answer = await token({ grant_type: 'refresh_token', refresh_token: issued.leaverForAlice.refresh }, asLeaver());
    expect(answer.status).toBe(401);
    expect(answer.json).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
  });

  it('is not a registered client at /auth', async () => {
    const page = await new Browser().get(loginUrl().replace('client_id=web-app', 'client_id=leaver').replace(encodeURIComponent(callback('web-app')), encodeURIComponent(callback('leaver'))));
    expect(page.status).toBe(400);
    expect(page.html).toContain('client_id is not a registered client');
  });

  it('no longer contributes its scopes to discovery', async () => {
    expect(await scopesSupported()).not.toContain('ledger:read');
  });

  it('keeps its row, marked disabled and still owned by the file', () => {
    expect(rows().client).toEqual({ source: 'config', disabled_at: expect.any(Number) });
  });
});

describe('a user removed from config.yaml, after a restart', () => {
  it('can no longer log in: the page answers as for a wrong password', async () => {
    const browser = new Browser();
    const page = await browser.get(loginUrl());
    const again = await browser.submit(page, parseForm(page.html), CAROL);
    expect(again.status).toBe(401);
    expect(again.html).toContain('The username or password is incorrect.');
  });

  it('has their access tokens refused at /userinfo and introspected inactive by the client they were issued to', async () => {
    expect(await userinfo(issued.webAppForCarol.access)).toEqual({
      status: 401,
      json: { error: 'invalid_token', error_description: 'the user of this access token is disabled' },
    });
    expect(await introspect(issued.webAppForCarol.access, asWebApp())).toMatchObject({ status: 200, json: { active: false } });
  });

  it('has their refresh tokens refused with invalid_grant, and inactive at introspection', async () => {
    expect(await introspect(issued.webAppForCarol.refresh, asWebApp())).toMatchObject({ status: 200, json: { active: false } });
    const answer = await token({ grant_type: 'refresh_token', refresh_token: issued.webAppForCarol.refresh }, asWebApp());
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: 'invalid_grant', error_description: 'the refresh token was revoked' });
  });

  it('ended their session: the browser signed in before the removal is asked to log in again', async () => {
    const page = await issued.carolBrowser.get(loginUrl());
    expect(page.status).toBe(200);
    expect(page.html).toContain('name="password"');
  });

  it('keeps their row, marked disabled', () => {
    expect(rows().user).toEqual({ id: issued.webAppForCarol.sub, source: 'config', disabled_at: expect.any(Number) });
  });
});

describe('a client and a user declared again, after another restart', () => {
  beforeAll(async () => {
    await start({ leaver: true, carol: true });
  }, 30_000);

  it('enables the client again: it authenticates and its scopes are back in discovery', async () => {
    const answer = await token({ grant_type: 'client_credentials', scope: 'ledger:read', resource: API }, asLeaver());
    expect(answer.status).toBe(200);
    expect(await introspect(String(answer.json.access_token), asGateway())).toMatchObject({ json: { active: true, client_id: 'leaver' } });
    expect(await scopesSupported()).toContain('ledger:read');
    expect(rows().client).toEqual({ source: 'config', disabled_at: null });
  });

  it('enables the user again with the same sub', async () => {
    const again = await codeFlow('web-app', WEB_SECRET, CAROL);
    expect(again.sub).toBe(issued.webAppForCarol.sub);
    expect((await userinfo(again.access)).json).toMatchObject({ sub: issued.webAppForCarol.sub, name: 'Carol Petit' });
    expect(rows().user).toEqual({ id: issued.webAppForCarol.sub, source: 'config', disabled_at: null });
  });

  // A client_credentials access token is not recorded (the benchmarked path writes nothing): it
  // stays dead because the client's enabled_at is later than its iat.
  it('does not revive a client_credentials access token issued before the removal', async () => {
    expect(await introspect(issued.machine, asGateway())).toMatchObject({ status: 200, json: { active: false } });
  });

  it('recorded each removal in the audit log', () => {
    expect(rows().disabledEvents).toEqual([
      { event: 'client.disabled', client_id: 'leaver', user_id: null, details: JSON.stringify({ reason: 'removed from config.yaml' }) },
      { event: 'user.disabled', client_id: null, user_id: issued.webAppForCarol.sub, details: JSON.stringify({ reason: 'removed from config.yaml' }) },
    ]);
  });

  it('does not revive the user tokens and refresh tokens issued before the removal', async () => {
    expect((await userinfo(issued.leaverForAlice.access)).status).toBe(401);
    expect((await userinfo(issued.webAppForCarol.access)).status).toBe(401);
    const leaver = await token({ grant_type: 'refresh_token', refresh_token: issued.leaverForAlice.refresh }, asLeaver());
    expect(leaver.json).toEqual({ error: 'invalid_grant', error_description: 'the refresh token was revoked' });
    const webApp = await token({ grant_type: 'refresh_token', refresh_token: issued.webAppForCarol.refresh }, asWebApp());
    expect(webApp.json).toEqual({ error: 'invalid_grant', error_description: 'the refresh token was revoked' });
  });
});
