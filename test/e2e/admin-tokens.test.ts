import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClientEntry, adminFetch, adminToken } from '../support/admin.js';
import { startBackchannel } from '../support/backchannel.js';
import { Browser, loginThrough, parseForm } from '../support/browser.js';
import { runCli } from '../support/cli.js';
import { authorizationUrl, basic, postForm } from '../support/flow.js';
import { ALICE, startServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

/**
 * POST /admin/v1/tokens/revoke and `trusty tokens revoke`: every token of a client or of a user,
 * dead on the next request — recorded ones by jti, a client's unrecorded client_credentials
 * tokens by their iat — while the client or user stays enabled. The CLI runs as a real process
 * on the database of the running server.
 */
const RP_SECRET = 'rp-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123';
const MACHINE_SECRET = 'machine-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const CALLBACK = 'http://127.0.0.1:9/rp/callback';

let server: TestServer;
let admin: string;
let backchannel: Awaited<ReturnType<typeof startBackchannel>>;

beforeAll(async () => {
  backchannel = await startBackchannel();
  server = await startServer({
    clients: [
      adminClientEntry(),
      {
        client_id: 'rp',
        client_secret: RP_SECRET,
        redirect_uris: [CALLBACK],
        grant_types: ['authorization_code', 'refresh_token'],
        backchannel_logout_uri: `${backchannel.url}/rp`,
        scope: 'openid profile offline_access',
        require_consent: false,
      },
    ],
  });
  admin = await adminToken(server);
});
afterAll(async () => {
  await server?.close();
  await backchannel?.close();
});

const api = (method: string, path: string, body?: unknown) => adminFetch(server, admin, method, path, body);
const cli = (...args: string[]) => runCli(['--config', server.configPath, ...args]);
const asRp = { authorization: basic('rp', RP_SECRET) };
const asMachine = { authorization: basic('machine', MACHINE_SECRET) };
const active = async (token: string, as: Record<string, string>) => (await postForm(server.issuer + '/introspect', { token }, as)).json.active;
const refresh = (token: string) => postForm(server.issuer + '/token', { grant_type: 'refresh_token', refresh_token: token }, asRp);

async function machineToken(): Promise<string> {
  const response = await postForm(server.issuer + '/token', { grant_type: 'client_credentials', scope: 'invoices:read' }, asMachine);
  expect(response.status).toBe(200);
  return String(response.json.access_token);
}

/** Resolves once the server's clock is past `second` (a token issued then has a later iat). */
async function nextSecond(second: number): Promise<void> {
  while (server.clock.now() <= second) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Alice signs in to `rp` through openid-client: her access and refresh tokens and the session's sid. */
async function signIn(user: { username: string; password: string } = ALICE) {
  const config = await oidc.discovery(new URL(server.issuer), 'rp', undefined, oidc.ClientSecretBasic(RP_SECRET), { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid offline_access',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const landed = await loginThrough(new Browser(), url.href, user);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed), { pkceCodeVerifier: verifier, expectedState: state });
  return { access: tokens.access_token, refresh: tokens.refresh_token!, sub: tokens.claims()!.sub, sid: tokens.claims()!.sid as string };
}

async function aliceId(): Promise<string> {
  return (await api('GET', '/users?username_prefix=alice')).body.items[0].id;
}

describe('POST /tokens/revoke, refused', () => {
  it('needs exactly one of client_id and user_id: a 400 problem naming the field', async () => {
    for (const [body, field] of [
      [{}, 'client_id'],
      [{ client_id: 'machine', user_id: 'someone' }, 'user_id'],
      [{ client_id: 'not a client id!' }, 'client_id'],
      [{ user_id: '' }, 'user_id'],
      [{ user_id: 'x'.repeat(129) }, 'user_id'],
      [{ client_id: 'machine', extra: true }, 'extra'],
    ] as const) {
      const response = await api('POST', '/tokens/revoke', body);
      expect({ body, status: response.status, field: response.body.field }).toEqual({ body, status: 400, field });
      expect(response.body.type).toBe('urn:trusty:problem:invalid-request');
    }
  });

  it('answers 404 for an unknown client or user, and revokes nothing', async () => {
    const token = await machineToken();
    for (const body of [{ client_id: 'nobody' }, { user_id: 'nobody' }]) {
      const response = await api('POST', '/tokens/revoke', body);
      expect(response.status).toBe(404);
      expect(response.body.type).toBe('urn:trusty:problem:not-found');
    }
    expect(await active(token, asMachine)).toBe(true);
  });
});

describe('POST /tokens/revoke', () => {
  it("a client's: its client_credentials token introspects inactive at once; one issued from the next second works", async () => {
    const before = await machineToken();
    expect(await active(before, asMachine)).toBe(true);
    const revokedAt = server.clock.now();
    const response = await api('POST', '/tokens/revoke', { client_id: 'machine' });
    expect(response).toMatchObject({ status: 200, body: { refresh_tokens: 0, access_tokens: 0, sessions: 0 } });
    expect(await active(before, asMachine)).toBe(false);
    // iat has whole seconds: a token issued within the second of the revocation dies with it.
    await nextSecond(revokedAt);
    const after = await machineToken();
    expect(await active(after, asMachine)).toBe(true);
    const events = await api('GET', '/audit?event=tokens.revoked&client_id=machine');
    expect(events.body.items[0]).toMatchObject({ actor: 'client:admin-bot', details: { after: { refresh_tokens: 0, access_tokens: 0, sessions: 0 } } });
  });

  it("a client's: the refresh and access tokens its users got are revoked too", async () => {
    const alice = await signIn();
    const response = await api('POST', '/tokens/revoke', { client_id: 'rp' });
    expect(response.body).toEqual({ refresh_tokens: 1, access_tokens: 1, sessions: 0 });
    expect(await active(alice.access, asRp)).toBe(false);
    expect(await refresh(alice.refresh)).toMatchObject({ status: 400, json: { error: 'invalid_grant' } });
  });

  it("a user's: refresh token refused, access token inactive, userinfo 401, sessions ended with a logout token; the user still logs in", async () => {
    await nextSecond(server.clock.now()); // past the rp revocation above
    const alice = await signIn();
    expect(await active(alice.access, asRp)).toBe(true);
    const response = await api('POST', '/tokens/revoke', { user_id: await aliceId() });
    expect(response.status).toBe(200);
    expect(response.body.refresh_tokens).toBe(1);
    expect(response.body.access_tokens).toBe(1);
    expect(response.body.sessions).toBeGreaterThanOrEqual(1);
    expect(await active(alice.access, asRp)).toBe(false);
    expect(await refresh(alice.refresh)).toMatchObject({ status: 400, json: { error: 'invalid_grant' } });
    const info = await fetch(server.issuer + '/userinfo', { headers: { authorization: `Bearer ${alice.access}` } });
    expect(info.status).toBe(401);
    await eventually(() => (backchannel.deliveries.some((d) => decodeJwt(d.logoutToken).sid === alice.sid) ? true : undefined), 'the logout token');
    const again = await signIn();
    expect(await active(again.access, asRp)).toBe(true);
  });
});

describe('the CLI (a real process) while the server runs: seen at the next request', () => {
  it('refuses bad input with exit codes 2 (arguments), 3 (not found)', async () => {
    const neither = await cli('tokens', 'revoke');
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('give exactly one of --client <client_id> or --user <username|id>');
    const unknown = await cli('tokens', 'revoke', '--user', 'nobody');
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toBe('trusty: user nobody was not found\n');
  }, 30_000);

  it('trusty tokens revoke --client: the token issued before introspects inactive on the next request', async () => {
    await nextSecond(server.clock.now());
    const before = await machineToken();
    expect(await active(before, asMachine)).toBe(true);
    const revoked = await cli('--json', 'tokens', 'revoke', '--client', 'machine');
    expect(revoked).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(revoked.stdout)).toEqual({ client_id: 'machine', revoked: true, refresh_tokens: 0, access_tokens: 0, sessions: 0 });
    expect(await active(before, asMachine)).toBe(false);
  }, 30_000);

  it('trusty tokens revoke --user <username>: refresh token refused, access token inactive', async () => {
    const alice = await signIn();
    const revoked = await cli('--json', 'tokens', 'revoke', '--user', 'alice');
    expect(revoked.code).toBe(0);
    // Alice's tokens of the previous test's last sign-in too.
    expect(JSON.parse(revoked.stdout)).toMatchObject({ user_id: await aliceId(), revoked: true, refresh_tokens: 2, access_tokens: 2 });
    expect(await active(alice.access, asRp)).toBe(false);
    expect(await refresh(alice.refresh)).toMatchObject({ status: 400, json: { error: 'invalid_grant' } });
    const events = await api('GET', `/audit?event=tokens.revoked&user_id=${await aliceId()}`);
    expect(events.body.items[0].actor).toMatch(/^cli:/);
  }, 30_000);

  it('trusty users create / disable / sessions: the running server follows on its next request', async () => {
    const created = await runCli(['--config', server.configPath, '--json', 'users', 'create', 'carol', '--password-stdin', '--claims', '{"name":"Carol"}'], {}, 'carol-password\n');
    expect(created.code).toBe(0);
    const carol = JSON.parse(created.stdout) as { id: string; source: string; password?: string };
    expect(carol).toMatchObject({ source: 'api', claims: { name: 'Carol' } });
    expect(carol).not.toHaveProperty('password');
    const session = await signIn({ username: 'carol', password: 'carol-password' });

    const listed = await cli('--json', 'sessions', 'list', '--user', 'carol');
    expect(JSON.parse(listed.stdout).items.map((s: { sid: string }) => s.sid)).toEqual([session.sid]);
    const revoked = await cli('sessions', 'revoke', session.sid);
    expect(revoked).toMatchObject({ code: 0, stdout: `session ${session.sid} revoked\n` });
    // The CLI process told the client before it exited.
    expect(backchannel.deliveries.filter((d) => decodeJwt(d.logoutToken).sid === session.sid)).toHaveLength(1);

    const fresh = await signIn({ username: 'carol', password: 'carol-password' });
    const disabled = await cli('--json', 'users', 'disable', 'carol');
    expect(disabled.code).toBe(0);
    expect(JSON.parse(disabled.stdout)).toMatchObject({ id: carol.id, enabled: false, ended: { refresh_tokens: 2, access_tokens: 2, sessions: 1 } });
    expect(await active(fresh.access, asRp)).toBe(false);
    expect(backchannel.deliveries.filter((d) => decodeJwt(d.logoutToken).sid === fresh.sid)).toHaveLength(1);
    const browser = new Browser();
    const page = await browser.get(authorizationUrl(server, 'rp', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'));
    expect((await browser.submit(page, parseForm(page.html), { username: 'carol', password: 'carol-password' })).status).toBe(401);

    const configUser = await cli('users', 'disable', 'alice');
    expect(configUser).toMatchObject({ code: 4, stderr: 'trusty: user alice is declared in config.yaml; change it there\n' });
  }, 60_000);
});
