import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { createTrusty, type Bounds, type Trusty } from '../../src/container.js';
import { createLogger } from '../../src/infrastructure/logger.js';
import { Browser, loginThrough } from '../support/browser.js';
import { TestClock } from '../support/clock.js';
import { authorizationUrl, basic, postForm } from '../support/flow.js';
import { ALICE, WEB_SECRET, freePort, testConfig, type TestServer } from '../support/server.js';

/**
 * What unauthenticated callers can make the server keep is bounded per client and overall, so
 * that one client cannot lock the others out: pushed requests (PAR) and pending interactions
 * (sign-ins under way). The bounds are lowered here through createTrusty's last argument.
 */
const LOWERED: Partial<Bounds> = { parStoreCapacity: 6, parPerClient: 3, interactions: 5, interactionsPerClient: 3 };

let server: TestServer;
let trusty: Trusty;
let app: FastifyInstance;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trusty-bounds-'));
  const port = await freePort();
  const config = parseConfig(stringify(testConfig(port, dir)), join(dir, 'config.yaml'));
  const clock = new TestClock();
  const log = createLogger('silent');
  trusty = await createTrusty(config, log, clock, LOWERED);
  app = await buildApp(trusty.deps, log);
  app.addHook('onClose', async () => trusty.close());
  await app.listen({ port, host: '127.0.0.1' });
  server = {
    issuer: config.issuer,
    clock,
    trusty,
    app,
    dbPath: config.database.path,
    callback: (id) => `http://127.0.0.1:9/${id}/callback`,
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
afterAll(async () => {
  await server?.close();
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
  const row = (clientId === undefined ? trusty.db.sqlite.prepare(sql).get() : trusty.db.sqlite.prepare(sql).get(clientId)) as { n: number };
  return row.n;
}

/** GET /auth in a fresh browser: the login page (200) or an error page. */
async function open(url: string) {
  return new Browser().get(url);
}

describe('pending pushed requests are bounded per client (RFC 9126 §2, 503 beyond)', () => {
  it('refuses a client over its share while another client still pushes, and gives the share back as requests complete or expire', async () => {
    const accepted = [];
    for (let i = 0; i < 3; i++) {
      const response = await pushSpa();
      expect(response.status).toBe(201);
      accepted.push(String(response.json.request_uri));
    }
    const refused = await pushSpa();
    expect(refused.status).toBe(503);
    expect(refused.json).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'too many pending pushed authorization requests for this client; retry shortly',
    });
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.headers.get('cache-control')).toBe('no-store');

    const other = await pushWeb();
    expect(other.status).toBe(201);

    // A completed authorization spends its request_uri and frees its place.
    const signedIn = await loginThrough(new Browser(), `${server.issuer}/auth?client_id=web-app&request_uri=${encodeURIComponent(String(other.json.request_uri))}`, ALICE);
    expect(new URL(signedIn).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    server.clock.advance(61); // request_uri_ttl
    expect((await pushSpa()).status).toBe(201);
    // Nothing pending is left for the next tests.
    server.clock.advance(61);
    trusty.db.sqlite.prepare('DELETE FROM interactions').run();
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

  it('answers 503 beyond the bound per client, while another client still gets its login page', async () => {
    for (let i = 0; i < 3; i++) expect((await open(authorizationUrl(server, 'spa', CHALLENGE))).html).toContain('name="password"');
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

    const web = await open(authorizationUrl(server, 'web-app', CHALLENGE));
    expect(web.status).toBe(200);
    expect(web.html).toContain('name="password"');

    // Another sign-in under way, then the overall bound (5) is reached: everyone gets the page.
    expect((await open(authorizationUrl(server, 'legacy-rs256', CHALLENGE))).status).toBe(200);
    const full = await open(authorizationUrl(server, 'post-app', CHALLENGE));
    expect(full.status).toBe(503);
    expect(full.html).toContain('<code>temporarily_unavailable</code> too many sign-ins under way; retry shortly');
    expect(interactionRows()).toBe(5);

    // A signed-in user needs no interaction: the code is issued even now.
    const browser = new Browser();
    trusty.db.sqlite.prepare('DELETE FROM interactions WHERE client_id = ?').run('legacy-rs256');
    await loginThrough(browser, authorizationUrl(server, 'web-app', CHALLENGE), ALICE);
    expect(interactionRows()).toBe(4);
    expect((await open(authorizationUrl(server, 'legacy-rs256', CHALLENGE))).status).toBe(200);
    // The refused request_uri was not spent: once there is room, it leads to the login page.
    trusty.db.sqlite.prepare("DELETE FROM interactions WHERE id = (SELECT id FROM interactions WHERE client_id = 'spa' LIMIT 1)").run();
    expect((await open(viaPar)).html).toContain('name="password"');
    const direct = await browser.get(authorizationUrl(server, 'web-app', CHALLENGE, { state: 'again' }));
    expect(direct.status).toBe(0);
    expect(new URL(direct.url).searchParams.get('state')).toBe('again');

    // Once the interactions expire (interaction_ttl 900 s) they no longer count, and go.
    server.clock.advance(901);
    const page = await open(viaPar);
    expect(page.status).toBe(400); // the request_uri expired meanwhile (60 s): nothing is written for it
    expect((await open(authorizationUrl(server, 'spa', CHALLENGE))).status).toBe(200);
    expect(interactionRows()).toBe(1);
    expect(interactionRows('spa')).toBe(1);
  });
});
