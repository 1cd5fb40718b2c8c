import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClientEntry, adminFetch, adminToken } from '../support/admin.js';
import { startBackchannel } from '../support/backchannel.js';
import { Browser, loginThrough, parseForm } from '../support/browser.js';
import { authorizationUrl, basic, postForm } from '../support/flow.js';
import { freePort, startServer, startServerAt, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

/**
 * Users, sessions and what ends with them through the management API (issue 13): a user made by
 * the API logs in with openid-client; disabling it or giving it a new password ends its sessions
 * (a real back channel receives the logout tokens), refresh tokens and access tokens at once;
 * config.yaml's users are read-only; API users survive restarts untouched by the seed.
 */
const RP_SECRET = 'rp-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const CALLBACK = 'http://127.0.0.1:9/rp/callback';
const ADA = { username: 'ada', password: 'ada-password-1' } as const;

let server: TestServer;
let admin: string;
let backchannel: Awaited<ReturnType<typeof startBackchannel>>;

const rpEntry = (backchannelUrl: string) => ({
  client_id: 'rp',
  client_secret: RP_SECRET,
  redirect_uris: [CALLBACK],
  grant_types: ['authorization_code', 'refresh_token'],
  backchannel_logout_uri: `${backchannelUrl}/rp`,
  scope: 'openid profile email offline_access',
  require_consent: false,
});

beforeAll(async () => {
  backchannel = await startBackchannel();
  server = await startServer({ clients: [adminClientEntry(), adminClientEntry('trusty:clients:write trusty:clients:read', 'clients-bot'), rpEntry(backchannel.url)] });
  admin = await adminToken(server);
});
afterAll(async () => {
  await server?.close();
  await backchannel?.close();
});

const api = (method: string, path: string, body?: unknown) => adminFetch(server, admin, method, path, body);
const asRp = { authorization: basic('rp', RP_SECRET) };
const introspect = (token: string) => postForm(server.issuer + '/introspect', { token }, asRp);
const refresh = (token: string) => postForm(server.issuer + '/token', { grant_type: 'refresh_token', refresh_token: token }, asRp);
async function userinfo(accessToken: string) {
  const response = await fetch(server.issuer + '/userinfo', { headers: { authorization: `Bearer ${accessToken}` } });
  return response.status;
}

/** The code flow for `rp` through openid-client, `user` signing in on the hosted page. */
async function signIn(user: { username: string; password: string }, browser = new Browser()) {
  const config = await oidc.discovery(new URL(server.issuer), 'rp', { [oidc.clockSkew]: server.clock.now() - Math.floor(Date.now() / 1000) }, oidc.ClientSecretBasic(RP_SECRET), {
    execute: [oidc.allowInsecureRequests],
  });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid profile offline_access',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const landed = await loginThrough(browser, url.href, user);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed), { pkceCodeVerifier: verifier, expectedState: state });
  const claims = tokens.claims()!;
  return { access: tokens.access_token, refresh: tokens.refresh_token!, sub: claims.sub, sid: claims.sid as string, browser };
}

/** Submits the login form with these credentials: the status of the answer (0: the callback was reached). */
async function loginStatus(user: { username: string; password: string }): Promise<number> {
  const browser = new Browser();
  const page = await browser.get(authorizationUrl(server, 'rp', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'));
  expect(page.html).toContain('name="password"');
  return (await browser.submit(page, parseForm(page.html), user)).status;
}

/** The logout tokens the back channel received for `sid`, each verified as a relying party would. */
async function logoutTokensFor(sid: string) {
  const jwks = createRemoteJWKSet(new URL(server.issuer + '/.well-known/jwks.json'));
  const tokens = backchannel.deliveries.filter((d) => d.path === '/rp' && decodeJwt(d.logoutToken).sid === sid);
  for (const { logoutToken } of tokens) {
    const { payload } = await jwtVerify(logoutToken, jwks, { issuer: server.issuer, audience: 'rp', typ: 'logout+jwt', currentDate: new Date(server.clock.now() * 1000) });
    expect(payload.events).toEqual({ [BACKCHANNEL_EVENT]: {} });
  }
  return tokens;
}

async function createUser(body: Record<string, unknown>) {
  const created = await api('POST', '/users', body);
  expect(created.status).toBe(201);
  return created.body as { id: string; username: string; password?: string };
}

describe('management API: users, refused', () => {
  it('refuses bad input with a 400 problem naming the field', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/users', { username: '', password: 'x' }, 'username'],
      ['POST', '/users', { username: 'u'.repeat(129) }, 'username'],
      ['POST', '/users', { username: 'x', password: 'é'.repeat(37) }, 'password'],
      ['POST', '/users', { username: 'x', claims: [] }, 'claims'],
      ['POST', '/users', { username: 'x', claims: { blob: 'x'.repeat(17_000) } }, 'claims'],
      ['POST', '/users', { username: 'x', roles: ['admin'] }, 'roles'],
      ['GET', '/users?limit=0', undefined, 'limit'],
      ['GET', '/users?limit=201', undefined, 'limit'],
      ['GET', '/users?source=ldap', undefined, 'source'],
      ['GET', '/users?enabled=yes', undefined, 'enabled'],
      ['GET', '/users?cursor=%21%21', undefined, 'cursor'],
      ['GET', '/sessions', undefined, 'user_id'],
      ['POST', '/tokens/revoke', {}, 'client_id'],
    ];
    for (const [method, path, body, field] of cases) {
      const response = await api(method, path, body);
      expect({ path, body, status: response.status, field: response.body.field }).toEqual({ path, body, status: 400, field });
      expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      expect(response.body.type).toBe('urn:trusty:problem:invalid-request');
    }
  });

  it('is trusty:admin only: a clients-scoped token gets 403 insufficient_scope', async () => {
    const response = await adminFetch(server, await adminToken(server, 'clients-bot'), 'GET', '/users');
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(response.headers.get('www-authenticate')).toContain('scope="trusty:admin"');
  });

  it('answers 404 for an unknown user or session', async () => {
    for (const [method, path, body] of [
      ['GET', '/users/nobody'],
      ['POST', '/users/nobody/disable'],
      ['POST', '/users/nobody/password', {}],
      ['GET', '/sessions?user_id=nobody'],
      ['DELETE', '/sessions/no-such-sid'],
      ['POST', '/tokens/revoke', { user_id: 'nobody' }],
    ] as const) {
      const response = await api(method, path, body);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(response.body.type).toBe('urn:trusty:problem:not-found');
    }
  });

  it("refuses to change a config.yaml user (409), but shows it, never with its password", async () => {
    const alice = await api('GET', '/users?source=config&username_prefix=ali');
    expect(alice.body.items).toHaveLength(1);
    const { id } = alice.body.items[0];
    const shown = await api('GET', `/users/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toEqual({
      id,
      username: 'alice',
      claims: { name: 'Alice Martin', email: 'alice@example.com', email_verified: true, phone_number: '+33 1 23 45 67 89' },
      source: 'config',
      enabled: true,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      failed_logins: 0,
      locked_until: null,
    });
    for (const [method, path, body] of [
      ['PATCH', `/users/${id}`, { claims: { name: 'Mallory' } }],
      ['POST', `/users/${id}/disable`],
      ['POST', `/users/${id}/enable`],
      ['POST', `/users/${id}/password`, { password: 'new-password' }],
    ] as const) {
      const response = await api(method, path, body);
      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({ type: 'urn:trusty:problem:conflict', detail: 'user alice is declared in config.yaml; change it there' });
    }
    expect(await loginStatus({ username: 'alice', password: 'alice-password' })).toBe(0);
  });

  it('refuses a taken username with 409, whoever owns it', async () => {
    for (const username of ['alice', 'bob']) {
      const response = await api('POST', '/users', { username, password: 'whatever-1' });
      expect(response.status).toBe(409);
      expect(response.body.detail).toBe(`username ${username} is taken`);
    }
    await createUser({ username: 'taken-twice', password: 'p' });
    expect((await api('POST', '/users', { username: 'taken-twice', password: 'p' })).status).toBe(409);
  });
});

describe('management API: a user made through the API', () => {
  let ada: { id: string };

  it('logs in once created; its claims reach userinfo; PATCH merges claims', async () => {
    expect(await loginStatus(ADA)).toBe(401);
    const created = await createUser({ ...ADA, claims: { name: 'Ada Lovelace', email: 'ada@example.com' } });
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username: 'ada',
      claims: { name: 'Ada Lovelace', email: 'ada@example.com' },
      source: 'api',
      enabled: true,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      failed_logins: 0,
      locked_until: null,
    });
    ada = created;
    const session = await signIn(ADA);
    expect(session.sub).toBe(ada.id);
    const patched = await api('PATCH', `/users/${ada.id}`, { claims: { email: null, nickname: 'Countess' } });
    expect(patched.status).toBe(200);
    expect(patched.body.claims).toEqual({ name: 'Ada Lovelace', nickname: 'Countess' });
    const response = await fetch(server.issuer + '/userinfo', { headers: { authorization: `Bearer ${session.access}` } });
    expect(await response.json()).toEqual({ sub: ada.id, name: 'Ada Lovelace', nickname: 'Countess' });
  });

  it('generates a password when none is given, shown once', async () => {
    const created = await createUser({ username: 'grace' });
    expect(created.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await loginStatus({ username: 'grace', password: created.password! })).toBe(0);
    expect((await api('GET', `/users/${created.id}`)).body).not.toHaveProperty('password');
  });

  it('disabled: login refused, tokens dead at once (introspection, userinfo, refresh), sessions ended with a logout token', async () => {
    const session = await signIn(ADA);
    expect((await introspect(session.access)).json).toMatchObject({ active: true, sub: ada.id });
    const disabled = await api('POST', `/users/${ada.id}/disable`);
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ enabled: false, ended: { refresh_tokens: 2, access_tokens: 2, sessions: 2 } });
    expect(await loginStatus(ADA)).toBe(401);
    expect((await introspect(session.access)).json).toEqual({ active: false });
    expect(await userinfo(session.access)).toBe(401);
    expect(await refresh(session.refresh)).toMatchObject({ status: 400, json: { error: 'invalid_grant' } });
    await eventually(() => (backchannel.deliveries.some((d) => decodeJwt(d.logoutToken).sid === session.sid) ? true : undefined), 'the logout token');
    expect(await logoutTokensFor(session.sid)).toHaveLength(1);
    // Disabling again changes nothing.
    expect((await api('POST', `/users/${ada.id}/disable`)).body.ended).toEqual({ refresh_tokens: 0, access_tokens: 0, sessions: 0 });
  });

  it('enabled again: logs in again, and nothing it had comes back', async () => {
    const enabled = await api('POST', `/users/${ada.id}/enable`);
    expect(enabled.body).toMatchObject({ id: ada.id, enabled: true });
    expect(await loginStatus(ADA)).toBe(0);
  });

  it('lists its live sessions and revokes one: its client gets one logout token, the browser must log in again', async () => {
    const first = await signIn(ADA);
    const second = await signIn(ADA);
    const listed = await api('GET', `/sessions?user_id=${ada.id}`);
    expect(listed.status).toBe(200);
    expect(listed.body.next_cursor).toBeNull();
    const sids: string[] = listed.body.items.map((s: { sid: string }) => s.sid);
    expect(sids).toEqual(expect.arrayContaining([first.sid, second.sid]));
    expect(listed.body.items.find((s: { sid: string }) => s.sid === first.sid)).toEqual({
      sid: first.sid,
      user_id: ada.id,
      auth_time: expect.stringMatching(/^\d{4}-/),
      expires_at: expect.stringMatching(/^\d{4}-/),
      client_ids: ['rp'],
    });
    // One by one, newest first, the same sessions.
    const paged: string[] = [];
    for (let cursor: string | null | undefined; cursor !== null; ) {
      const page = await api('GET', `/sessions?user_id=${ada.id}&limit=1${cursor !== undefined ? `&cursor=${cursor}` : ''}`);
      paged.push(...page.body.items.map((s: { sid: string }) => s.sid));
      cursor = page.body.next_cursor;
    }
    expect(paged).toEqual(sids);

    const revoked = await api('DELETE', `/sessions/${first.sid}`);
    expect(revoked.status).toBe(204);
    await eventually(() => (backchannel.deliveries.some((d) => decodeJwt(d.logoutToken).sid === first.sid) ? true : undefined), 'the logout token');
    expect(await logoutTokensFor(first.sid)).toHaveLength(1);
    expect((await api('DELETE', `/sessions/${first.sid}`)).status).toBe(404);
    // The revoked browser sees the login page again; the other one is still signed in.
    expect((await first.browser.get(authorizationUrl(server, 'rp', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'))).html).toContain('name="password"');
    expect((await second.browser.get(authorizationUrl(server, 'rp', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'))).status).toBe(0);
    const left = (await api('GET', `/sessions?user_id=${ada.id}`)).body.items.map((s: { sid: string }) => s.sid);
    expect(left).toContain(second.sid);
    expect(left).not.toContain(first.sid);
    // Audited with who did it.
    const events = await api('GET', `/audit?event=session.revoked&user_id=${ada.id}`);
    expect(events.body.items[0]).toMatchObject({ event: 'session.revoked', actor: 'client:admin-bot', details: { after: { sid: first.sid } } });
  });

  it('password reset: the old password is refused, the new one works, sessions and refresh tokens end', async () => {
    const session = await signIn(ADA);
    const reset = await api('POST', `/users/${ada.id}/password`, { password: 'ada-password-2' });
    expect(reset.status).toBe(200);
    expect(reset.body).not.toHaveProperty('password');
    expect(reset.body.ended.refresh_tokens).toBeGreaterThanOrEqual(1);
    expect(reset.body.ended.sessions).toBeGreaterThanOrEqual(1);
    expect(await loginStatus(ADA)).toBe(401);
    expect(await loginStatus({ username: 'ada', password: 'ada-password-2' })).toBe(0);
    expect(await refresh(session.refresh)).toMatchObject({ status: 400, json: { error: 'invalid_grant' } });
    expect((await introspect(session.access)).json).toEqual({ active: false });
    await eventually(() => (backchannel.deliveries.some((d) => decodeJwt(d.logoutToken).sid === session.sid) ? true : undefined), 'the logout token');
    const generated = await api('POST', `/users/${ada.id}/password`);
    expect(generated.body.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await loginStatus({ username: 'ada', password: generated.body.password })).toBe(0);
    const events = await api('GET', `/audit?event=user.password_reset&user_id=${ada.id}`);
    expect(JSON.stringify(events.body)).not.toContain(generated.body.password);
    expect(JSON.stringify(events.body)).not.toContain('ada-password-2');
  });

  it('lists users in username order, filtered and paged', async () => {
    await api('POST', `/users/${(await createUser({ username: 'gone', password: 'p' })).id}/disable`);
    const all = await api('GET', '/users?limit=200');
    expect(all.body.items.map((u: { username: string }) => u.username)).toEqual(['ada', 'alice', 'bob', 'gone', 'grace', 'taken-twice']);
    const api1 = await api('GET', '/users?source=api&enabled=true&limit=2');
    expect(api1.body.items.map((u: { username: string }) => u.username)).toEqual(['ada', 'grace']);
    const api2 = await api('GET', `/users?source=api&enabled=true&limit=2&cursor=${api1.body.next_cursor}`);
    expect(api2.body).toEqual({ items: [expect.objectContaining({ username: 'taken-twice' })], next_cursor: null });
    expect((await api('GET', '/users?enabled=false')).body.items.map((u: { username: string }) => u.username)).toEqual(['gone']);
    expect((await api('GET', '/users?username_prefix=g')).body.items.map((u: { username: string }) => u.username)).toEqual(['gone', 'grace']);
  });

  it('PATCH: concurrent merge patches all land (each reads, merges and writes in one transaction)', async () => {
    const user = await createUser({ username: 'many-claims', password: 'p' });
    const names = Array.from({ length: 8 }, (_, i) => `claim_${i}`);
    const patched = await Promise.all(names.map((name) => api('PATCH', `/users/${user.id}`, { claims: { [name]: name } })));
    expect(patched.map((response) => response.status)).toEqual(names.map(() => 200));
    expect((await api('GET', `/users/${user.id}`)).body.claims).toEqual(Object.fromEntries(names.map((name) => [name, name])));
    // Started in the same tick, in the server's process: every read would come before any write
    // if they were not made in the write's transaction.
    const actor = { id: 'client:admin-bot', admin: true };
    await Promise.all(names.map((name) => server.trusty.deps.control.users.updateClaims(actor, user.id, { [name]: null, [`${name}_again`]: true })));
    expect((await api('GET', `/users/${user.id}`)).body.claims).toEqual(Object.fromEntries(names.map((name) => [`${name}_again`, true])));
  });

  it('takes a user by id or by username everywhere, the id first', async () => {
    const byName = await api('GET', '/users/ada');
    expect(byName).toMatchObject({ status: 200, body: { id: ada.id, username: 'ada' } });
    expect((await api('PATCH', '/users/ada', { claims: { nickname: 'Enchantress' } })).body).toMatchObject({ id: ada.id, claims: { nickname: 'Enchantress' } });
    expect((await api('GET', '/sessions?user_id=ada')).status).toBe(200);
    expect((await api('POST', '/tokens/revoke', { user_id: 'ada' })).status).toBe(200);
    const events = await api('GET', `/audit?event=tokens.revoked&user_id=${ada.id}`);
    expect(events.body.items[0]).toMatchObject({ user_id: ada.id, actor: 'client:admin-bot' });
    // A username that is another user's id: the id wins (docs/users.md).
    const shadow = await createUser({ username: ada.id, password: 'p' });
    expect((await api('GET', `/users/${ada.id}`)).body).toMatchObject({ id: ada.id, username: 'ada' });
    expect((await api('GET', `/users/${shadow.id}`)).body).toMatchObject({ id: shadow.id, username: ada.id });
    expect((await api('POST', `/users/${shadow.id}/disable`)).status).toBe(200);
  });
});

describe('API users and config.yaml across restarts', () => {
  it('an API user survives a restart untouched by the seed; a config.yaml user of the same username stops the start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trusty-users-'));
    const port = await freePort();
    let running: TestServer | undefined = await startServerAt(port, dir, { extra: { clients: [adminClientEntry()] } });
    try {
      const created = await adminFetch(running, await adminToken(running), 'POST', '/users', { username: 'dave', password: 'dave-password', claims: { name: 'Dave' } });
      expect(created.status).toBe(201);
      await running.close();
      running = await startServerAt(port, dir, { extra: { clients: [adminClientEntry()] } });
      const after = await adminFetch(running, await adminToken(running), 'GET', `/users/${created.body.id}`);
      expect(after.body).toEqual(created.body);
      await running.close();
      running = undefined;
      await expect(
        startServerAt(port, dir, { extra: { clients: [adminClientEntry()], users: [{ username: 'dave', password: 'file-password' }] } }),
      ).rejects.toThrow('config.yaml users[2].username: "dave" is already a user made through the management API; rename it in config.yaml');
      // Nothing changed: the API user still logs in with its own password.
      running = await startServerAt(port, dir, { extra: { clients: [adminClientEntry()] } });
      const still = await adminFetch(running, await adminToken(running), 'GET', `/users/${created.body.id}`);
      expect(still.body).toEqual(created.body);
    } finally {
      await running?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
