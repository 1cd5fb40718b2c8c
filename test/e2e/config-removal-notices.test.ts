import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackchannel } from '../support/backchannel.js';
import { Browser, parseForm } from '../support/browser.js';
import { TestClock } from '../support/clock.js';
import * as oidc from 'openid-client';
import { ALICE, freePort, startServerAt, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

/**
 * Contract: a user removed from config.yaml is disabled at the next start; their SSO sessions end,
 * and the clients those sessions logged in to get a back-channel logout token once the server is
 * up (OIDC Back-Channel Logout §2.5). The consents of a disabled user or client go too: declared
 * again, they are asked again. Three starts on one SQLite file: declared, removed, declared again.
 */
const SECRET = 'rp-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123';
const CAROL = { username: 'carol', password: 'carol-password' } as const;
const callback = (id: string) => `http://127.0.0.1:9/${id}/callback`;
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

const dir = mkdtempSync(join(tmpdir(), 'trusty-removal-notices-'));
let port = 0;
let issuer = '';
let server: TestServer | undefined;
let clock: TestClock;
let elapsed = 0;
let backchannel: Awaited<ReturnType<typeof startBackchannel>>;
const deliveries = () => backchannel.deliveries;

const rp = (id: string) => ({
  client_id: id,
  client_secret: SECRET,
  redirect_uris: [callback(id)],
  backchannel_logout_uri: `${backchannel.url}/${id}`,
  scope: 'openid profile',
  require_consent: true,
});

async function start(declare: { carol: boolean; leaving: boolean }): Promise<void> {
  await server?.close();
  clock = new TestClock();
  clock.advance(elapsed);
  elapsed += 5;
  server = await startServerAt(port, dir, { extra: { clients: [rp('rp'), ...(declare.leaving ? [rp('leaving')] : [])], users: declare.carol ? [{ ...CAROL, claims: { name: 'Carol Petit' } }] : [] }, clock });
}

beforeAll(async () => {
  backchannel = await startBackchannel();
  port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await server?.close();
  await backchannel?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function client(clientId: string) {
  return oidc.discovery(new URL(issuer), clientId, { [oidc.clockSkew]: clock.now() - Math.floor(Date.now() / 1000) }, oidc.ClientSecretBasic(SECRET), {
    execute: [oidc.allowInsecureRequests],
  });
}

/** The code flow with openid-client; says whether the consent page was shown (and approves it). */
async function signIn(clientId: string, user: { username: string; password: string }, browser = new Browser()) {
  const config = await client(clientId);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: callback(clientId),
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  let page = await browser.get(url.href);
  page = await browser.submit(page, parseForm(page.html), user);
  const consentShown = /name="decision"/.test(page.html);
  if (consentShown) page = await browser.submit(page, parseForm(page.html), { decision: 'approve' });
  expect(page.status).toBe(0); // back at the callback
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url), { pkceCodeVerifier: verifier, expectedState: state });
  const claims = tokens.claims()!;
  return { sid: claims.sid as string, sub: claims.sub, consentShown };
}

function consentRows(): Array<{ user_id: string; client_id: string }> {
  const db = new Database(join(dir, 'trusty.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT user_id, client_id FROM consents ORDER BY client_id, user_id').all() as Array<{ user_id: string; client_id: string }>;
  } finally {
    db.close();
  }
}

describe('removing a user or a client from config.yaml', () => {
  it('tells the clients of the removed user’s sessions, and forgets the consents of removed users and clients', async () => {
    await start({ carol: true, leaving: true });
    const carol = await signIn('rp', CAROL);
    expect(carol.consentShown).toBe(true);
    const alice = await signIn('leaving', ALICE);
    expect(alice.consentShown).toBe(true);
    expect(consentRows().map((r) => r.client_id)).toEqual(['leaving', 'rp']);

    // Carol and the client `leaving` are removed.
    await start({ carol: false, leaving: false });
    const delivery = await eventually(() => deliveries().find((d) => d.path === '/rp'), 'the logout token of carol’s session');
    const jwks = createRemoteJWKSet(new URL(issuer + '/.well-known/jwks.json'));
    const { payload, protectedHeader } = await jwtVerify(delivery.logoutToken, jwks, {
      issuer,
      audience: 'rp',
      typ: 'logout+jwt',
      currentDate: new Date(clock.now() * 1000),
      requiredClaims: ['iat', 'exp', 'jti', 'sub', 'sid', 'events'],
    });
    expect(protectedHeader.typ).toBe('logout+jwt');
    expect(payload.sub).toBe(carol.sub);
    expect(payload.sid).toBe(carol.sid);
    expect(payload.events).toEqual({ [BACKCHANNEL_EVENT]: {} });
    expect(consentRows()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(deliveries()).toHaveLength(1); // once; alice's session lives on, and `leaving` is gone
    expect(decodeJwt(deliveries()[0]!.logoutToken).sid).toBe(carol.sid);

    // Declared again: both are asked for consent again, and nothing is sent again.
    await start({ carol: true, leaving: true });
    const again = await signIn('rp', CAROL);
    expect(again.sub).toBe(carol.sub);
    expect(again.consentShown).toBe(true);
    expect((await signIn('leaving', ALICE)).consentShown).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(deliveries()).toHaveLength(1);
  });
});
