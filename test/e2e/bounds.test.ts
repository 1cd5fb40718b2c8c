import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bounds } from '../../src/container.js';
import { Browser, loginThrough, parseForm } from '../support/browser.js';
import { authorizationUrl, basic, postForm } from '../support/flow.js';
import { ALICE, WEB_SECRET, freePort, startServerAt, type TestServer } from '../support/server.js';

/**
 * What unauthenticated callers can make the server keep is bounded per client and overall, so
 * that one client cannot lock the others out: pushed requests (PAR) and pending interactions
 * (sign-ins under way). The bounds are lowered here through createTrusty's last argument.
 */
const LOWERED: Partial<Bounds> = { parStoreCapacity: 6, parPerClient: 3, interactions: 5, interactionsPerClient: 3 };

let server: TestServer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trusty-bounds-'));
  server = await startServerAt(await freePort(), dir, { bounds: LOWERED });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const WEB = basic('web-app', WEB_SECRET);

function pushSpa(state = 'spa-state') {
  return postForm(server.issuer + '/par', {
    client_id: 'spa',
    redirect_uri: server.callback('spa'),
    response_type: 'code',
    scope: 'openid',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    state,
  });
}

function pushWeb() {
  return postForm(
    server.issuer + '/par',
    { redirect_uri: server.callback('web-app'), response_type: 'code', scope: 'openid', code_challenge: CHALLENGE, code_challenge_method: 'S256' },
    { authorization: WEB },
  );
}

function interactionRows(clientId?: string): number {
  const sql = clientId === undefined ? 'SELECT count(*) AS n FROM interactions' : 'SELECT count(*) AS n FROM interactions WHERE client_id = ?';
  const row = (clientId === undefined ? server.trusty.db.sqlite.prepare(sql).get() : server.trusty.db.sqlite.prepare(sql).get(clientId)) as { n: number };
  return row.n;
}

/** GET /auth in a fresh browser: the login page (200) or an error page. */
async function open(url: string) {
  return new Browser().get(url);
}

describe('pending pushed requests are bounded per client (RFC 9126 §2)', () => {
  it('refuses a confidential client over its share while another client still pushes, and gives the share back as requests complete or expire', async () => {
    const accepted = [];
    for (let i = 0; i < 3; i++) {
      const response = await pushWeb();
      expect(response.status).toBe(201);
      accepted.push(String(response.json.request_uri));
    }
    // Only web-app itself (it authenticates) can fill its share: 503 beyond.
    const refused = await pushWeb();
    expect(refused.status).toBe(503);
    expect(refused.json).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'too many pending pushed authorization requests for this client; retry shortly',
    });
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.headers.get('cache-control')).toBe('no-store');

    const other = await pushSpa();
    expect(other.status).toBe(201);

    // A completed authorization spends its request_uri and frees its place.
    const signedIn = await loginThrough(new Browser(), `${server.issuer}/auth?client_id=web-app&request_uri=${encodeURIComponent(accepted[0]!)}`, ALICE);
    expect(new URL(signedIn).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await pushWeb()).status).toBe(201);

    server.clock.advance(61); // request_uri_ttl
    expect((await pushWeb()).status).toBe(201);
    // Nothing pending is left for the next tests.
    server.clock.advance(61);
    server.trusty.db.sqlite.prepare('DELETE FROM interactions').run();
  });

  it('never lets a flood of pushes as a public client (anyone can push as it) stop its users: the oldest pending request makes room', async () => {
    const first = await pushSpa('first');
    expect(first.status).toBe(201);
    for (let i = 0; i < 10; i++) expect((await pushSpa(`flood-${i}`)).status).toBe(201);
    const last = await pushSpa('real');
    expect(last.status).toBe(201);

    // The user's request still leads to the login page and to a code.
    const signedIn = await loginThrough(new Browser(), `${server.issuer}/auth?client_id=spa&request_uri=${encodeURIComponent(String(last.json.request_uri))}`, ALICE);
    expect(new URL(signedIn).searchParams.get('state')).toBe('real');
    expect(new URL(signedIn).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The evicted oldest one is gone.
    const evicted = await open(`${server.issuer}/auth?client_id=spa&request_uri=${encodeURIComponent(String(first.json.request_uri))}`);
    expect(evicted.status).toBe(400);
    expect(evicted.html).toContain('<code>invalid_request_uri</code> request_uri is invalid, expired or already used');
    server.clock.advance(61);
    server.trusty.db.sqlite.prepare('DELETE FROM interactions').run();
  });
});

describe('pending interactions are bounded per client and overall', () => {
  it('writes no row for a request that fails validation, nor for prompt=none without a session', async () => {
    const before = interactionRows();
    const attempts = [
      authorizationUrl(server, 'nobody', CHALLENGE),
      authorizationUrl(server, 'spa', CHALLENGE, { redirect_uri: 'http://127.0.0.1:9/evil' }),
      authorizationUrl(server, 'spa', CHALLENGE, { scope: 'openid admin' }),
      authorizationUrl(server, 'spa', CHALLENGE, { code_challenge: undefined }),
      authorizationUrl(server, 'spa', CHALLENGE, { prompt: 'none' }),
      `${server.issuer}/auth?client_id=spa&request_uri=urn:ietf:params:oauth:request_uri:unknown`,
    ];
    for (const url of attempts) {
      const response = await fetch(url, { redirect: 'manual' });
      expect([303, 400]).toContain(response.status);
      expect(response.headers.get('location') ?? '').not.toContain('/interaction/');
    }
    expect(interactionRows()).toBe(before);
  });

  it('never lets a flood of anonymous /auth requests stop a new sign-in for the client: the oldest anonymous interaction makes room', async () => {
    server.trusty.db.sqlite.prepare('DELETE FROM interactions').run();
    // The victim opened its login page first: its interaction is the oldest.
    const victim = new Browser();
    const victimPage = await victim.get(authorizationUrl(server, 'web-app', CHALLENGE, { state: 'victim' }));
    expect(victimPage.html).toContain('name="password"');
    server.clock.advance(1);

    // Anyone may send these: client_id and redirect_uri are public, /auth authenticates no client.
    for (let i = 0; i < 10; i++) {
      const flood = await open(authorizationUrl(server, 'web-app', CHALLENGE, { state: `flood-${i}` }));
      expect(flood.status).toBe(200);
      expect(flood.html).toContain('name="password"');
    }
    expect(interactionRows('web-app')).toBe(3);

    // A new sign-in still gets its login page, logs in and gets its code.
    const signedIn = await loginThrough(new Browser(), authorizationUrl(server, 'web-app', CHALLENGE, { state: 'real' }), ALICE);
    expect(new URL(signedIn).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new URL(signedIn).searchParams.get('state')).toBe('real');
    expect(interactionRows('web-app')).toBe(2); // its own interaction is spent

    // The evicted interaction is gone: its form answers "unknown or expired".
    const evicted = await victim.submit(victimPage, parseForm(victimPage.html), ALICE);
    expect(evicted.status).toBe(400);
    expect(evicted.html).toContain('<code>invalid_request</code> this sign-in request is unknown or expired; return to the application and try again');
  });

  it('makes room under the overall bound the same way, from the oldest anonymous interaction of any client', async () => {
    server.trusty.db.sqlite.prepare('DELETE FROM interactions').run();
    for (let i = 0; i < 3; i++) expect((await open(authorizationUrl(server, 'web-app', CHALLENGE))).status).toBe(200);
    server.clock.advance(1);
    for (let i = 0; i < 2; i++) expect((await open(authorizationUrl(server, 'post-app', CHALLENGE))).status).toBe(200);
    expect(interactionRows()).toBe(5);
    const oldest = (server.trusty.db.sqlite.prepare('SELECT id FROM interactions ORDER BY expires_at, created_at LIMIT 1').get() as { id: string }).id;

    const page = await open(authorizationUrl(server, 'legacy-rs256', CHALLENGE));
    expect(page.status).toBe(200);
    expect(page.html).toContain('name="password"');
    expect(interactionRows()).toBe(5);
    expect(interactionRows('web-app')).toBe(2);
    expect(server.trusty.db.sqlite.prepare('SELECT id FROM interactions WHERE id = ?').get(oldest)).toBeUndefined();
  });

  it('answers 503 only when the interactions in the way all have a signed-in user', async () => {
    server.trusty.db.sqlite.prepare('DELETE FROM interactions').run();
    /** Alice logs in and stays on the consent page: an interaction with a user, which no anonymous caller can make. */
    const onConsentPage = async (clientId: string) => {
      const browser = new Browser();
      const login = await browser.get(authorizationUrl(server, clientId, CHALLENGE, { prompt: 'consent' }));
      const consent = await browser.submit(login, parseForm(login.html), ALICE);
      expect(consent.html).toContain('name="decision"');
    };
    // spa requires consent: three users on its consent page fill its share.
    for (let i = 0; i < 3; i++) await onConsentPage('spa');
    expect(interactionRows('spa')).toBe(3);

    const refused = await open(authorizationUrl(server, 'spa', CHALLENGE));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
    expect(refused.html).toContain('<code>temporarily_unavailable</code> too many sign-ins under way for this client; retry shortly');
    expect(interactionRows('spa')).toBe(3);

    // A pushed request is refused the same way, and its request_uri is not spent.
    const pushed = await pushSpa('pushed-state');
    expect(pushed.status).toBe(201);
    const viaPar = `${server.issuer}/auth?client_id=spa&request_uri=${encodeURIComponent(String(pushed.json.request_uri))}`;
    expect((await open(viaPar)).status).toBe(503);
    expect(interactionRows('spa')).toBe(3);

    // Another client still signs in; an anonymous interaction of its own is evicted, never a signed-in one.
    expect((await open(authorizationUrl(server, 'web-app', CHALLENGE))).status).toBe(200);
    expect((await open(authorizationUrl(server, 'web-app', CHALLENGE))).status).toBe(200);
    expect(interactionRows()).toBe(5);
    expect((await open(authorizationUrl(server, 'post-app', CHALLENGE))).status).toBe(200);
    expect(interactionRows('spa')).toBe(3);
    expect(interactionRows()).toBe(5);

    // The overall bound full of signed-in users: 503 for everyone.
    server.trusty.db.sqlite.prepare("DELETE FROM interactions WHERE client_id <> 'spa'").run();
    await onConsentPage('web-app');
    await onConsentPage('post-app');
    const full = await open(authorizationUrl(server, 'legacy-rs256', CHALLENGE));
    expect(full.status).toBe(503);
    expect(full.html).toContain('<code>temporarily_unavailable</code> too many sign-ins under way; retry shortly');
    expect(interactionRows()).toBe(5);

    // A signed-in user needs no interaction: the code is issued even now.
    const browser = new Browser();
    const session = await browser.get(authorizationUrl(server, 'web-app', CHALLENGE, { prompt: 'login' }));
    expect(session.status).toBe(503);
    server.trusty.db.sqlite.prepare("DELETE FROM interactions WHERE client_id = 'post-app'").run();
    await loginThrough(browser, authorizationUrl(server, 'web-app', CHALLENGE), ALICE);
    const direct = await browser.get(authorizationUrl(server, 'web-app', CHALLENGE, { state: 'again' }));
    expect(direct.status).toBe(0);
    expect(new URL(direct.url).searchParams.get('state')).toBe('again');

    // The refused request_uri was not spent: once there is room, it leads to the login page.
    server.trusty.db.sqlite.prepare("DELETE FROM interactions WHERE id = (SELECT id FROM interactions WHERE client_id = 'spa' LIMIT 1)").run();
    expect((await open(viaPar)).html).toContain('name="password"');

    // Once the interactions expire (interaction_ttl 900 s) they no longer count, and go.
    server.clock.advance(901);
    expect((await open(authorizationUrl(server, 'spa', CHALLENGE))).status).toBe(200);
    expect(interactionRows()).toBe(1);
    expect(interactionRows('spa')).toBe(1);
  });
});
