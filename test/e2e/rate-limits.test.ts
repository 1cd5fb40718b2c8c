import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, parseForm } from '../support/browser.js';
import { authorizationUrl, basic, obtainCode, postForm } from '../support/flow.js';
import { ALICE, startServer, WEB_SECRET, type TestServer } from '../support/server.js';

/**
 * rate_limits (docs/rate-limits.md) against real listening servers, every request from
 * 127.0.0.1: per address on the APIs (RFC 6749 JSON, 429, Retry-After) and on the pages (a page
 * in the person's language), per authenticated client at /token and /revoke, failed client
 * authentications per address, windows that end, and nothing at all when disabled. Behind
 * trust_proxy ['127.0.0.1'], X-Forwarded-For gives each test its own addresses. With the
 * default config: a guessing run (client secret, password) is stopped while others are served,
 * and a legitimate suite from one address is not. Short windows are 2 s (the store counts on the
 * wall clock).
 */
const MACHINE_SECRET = 'machine-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const OTHER_SECRET = 'other-machine-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const OTHER = { client_id: 'other-machine', client_secret: OTHER_SECRET, grant_types: ['client_credentials'], scope: 'invoices:read' };
const WINDOW = 2;
const HIGH = 10_000;
const NO_RATE_LIMIT_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'];

const limits = (perIp: Record<string, number>, perClient: Record<string, number> = {}, enabled = true) => ({
  rate_limits: {
    enabled,
    window_seconds: WINDOW,
    per_ip: { auth: HIGH, login: HIGH, token: HIGH, par: HIGH, introspect: HIGH, revoke: HIGH, failed_client_auth: HIGH, ...perIp },
    per_client: { token: HIGH, par: HIGH, introspect: HIGH, revoke: HIGH, ...perClient },
  },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function clientCredentials(server: TestServer, clientId = 'machine', secret = MACHINE_SECRET, headers: Record<string, string> = {}) {
  return postForm(`${server.issuer}/token`, { grant_type: 'client_credentials', scope: 'invoices:read' }, { authorization: basic(clientId, secret), ...headers });
}

const REASONS = {
  address: 'too many requests from this address',
  client: 'too many requests from this client',
  failedAuth: 'too many failed client authentications from this address',
};

/** Asserts a 429 with Retry-After and the exact RFC 6749 body; returns Retry-After in seconds. */
function expectRefused(response: Awaited<ReturnType<typeof postForm>>, from: keyof typeof REASONS, window = WINDOW): number {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(window);
  expect(response.headers.get('cache-control')).toBe('no-store');
  // RFC 6749 §5.2 has no rate-limit code: temporarily_unavailable is borrowed from §4.1.2.1.
  expect(response.json).toEqual({
    error: 'temporarily_unavailable',
    error_description: `${REASONS[from]}; retry after ${retryAfter} ${retryAfter === 1 ? 'second' : 'seconds'}`,
  });
  return retryAfter;
}

/** trusty_rate_limited_total for one budget (an endpoint, or failed_client_auth) and key, scraped from GET /metrics (0 when absent). */
async function rateLimited(server: TestServer, endpoint: string, key: 'ip' | 'client'): Promise<number> {
  const text = await (await fetch(`${server.issuer}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('trusty_rate_limited_total{') && l.includes(`endpoint="${endpoint}"`) && l.includes(`key="${key}"`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('per address at the token endpoint', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ settings: limits({ token: 5 }) });
  });
  afterAll(async () => server?.close());

  it('answers 429 with Retry-After and an RFC 6749 body past the budget, without rate-limit headers, believing no X-Forwarded-For, and again once the window ends', async () => {
    for (let i = 0; i < 5; i++) {
      // Rotating X-Forwarded-For changes nothing: trust_proxy is off, the socket's address counts.
      const ok = await clientCredentials(server, 'machine', MACHINE_SECRET, { 'x-forwarded-for': `203.0.113.${i + 1}` });
      expect(ok.status).toBe(200);
      for (const name of NO_RATE_LIMIT_HEADERS) expect(ok.headers.get(name)).toBeNull();
    }
    const refused = await clientCredentials(server, 'machine', MACHINE_SECRET, { 'x-forwarded-for': '203.0.113.99' });
    const retryAfter = expectRefused(refused, 'address');
    for (const name of NO_RATE_LIMIT_HEADERS) expect(refused.headers.get(name)).toBeNull();
    // Another client from the same address is refused too: the budget is the address's.
    expectRefused(await clientCredentials(server, 'other-machine', OTHER_SECRET), 'address');

    // Counted for operators (docs/metrics.md): two refusals of addresses at /token.
    expect(await rateLimited(server, 'token', 'ip')).toBe(2);

    await sleep(retryAfter * 1000 + 100);
    expect((await clientCredentials(server)).status).toBe(200);
  });

  it('refuses before reading the body: a refused request is not authenticated at all', async () => {
    // Fill the budget again (the previous test's window may have ended meanwhile).
    let response;
    do response = await clientCredentials(server);
    while (response.status === 200);
    const badSecret = await clientCredentials(server, 'machine', 'wrong-secret');
    expectRefused(badSecret, 'address');
  });
});

describe('per client at the token endpoint, counted only once the client authenticated', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ clients: [OTHER], settings: limits({}, { token: 3, revoke: 2 }) });
  });
  afterAll(async () => server?.close());

  it("stops a brute-force run without touching the client's budget, while another client's token requests keep succeeding", async () => {
    // 30 guesses of machine's secret: all 401, none counted against machine.
    for (let i = 0; i < 30; i++) {
      const guess = await clientCredentials(server, 'machine', `guess-${i}-0123456789-0123456789`);
      expect(guess.status).toBe(401);
      expect(guess.json.error).toBe('invalid_client');
      if (i % 15 === 0) expect((await clientCredentials(server, 'other-machine', OTHER_SECRET)).status).toBe(200);
    }
    // machine's own budget (3) is whole.
    for (let i = 0; i < 3; i++) expect((await clientCredentials(server)).status).toBe(200);

    // An authenticated flood trips machine's limit, and only machine's.
    const refused = await clientCredentials(server);
    const retryAfter = expectRefused(refused, 'client');
    expectRefused(await clientCredentials(server), 'client');
    // other-machine has used 2 of its 3: still served.
    expect((await clientCredentials(server, 'other-machine', OTHER_SECRET)).status).toBe(200);

    expect(await rateLimited(server, 'token', 'client')).toBe(2);
    expect(await rateLimited(server, 'token', 'ip')).toBe(0);

    await sleep(retryAfter * 1000 + 100);
    expect((await clientCredentials(server)).status).toBe(200);
    expect((await clientCredentials(server, 'other-machine', OTHER_SECRET)).status).toBe(200);
  });

  it('gives a public client no budget of its own: anyone can name it, so it is limited per address only', async () => {
    for (let i = 0; i < 8; i++) {
      const response = await postForm(`${server.issuer}/token`, {
        grant_type: 'authorization_code',
        client_id: 'spa',
        code: `not-a-code-${i}`,
        code_verifier: 'v'.repeat(43),
        redirect_uri: server.callback('spa'),
      });
      expect(response.status).toBe(400);
      expect(response.json.error).toBe('invalid_grant');
    }
  });

  it('counts /revoke per client too', async () => {
    const revoke = () => postForm(`${server.issuer}/revoke`, { token: 'unknown-token' }, { authorization: basic('other-machine', OTHER_SECRET) });
    expect((await revoke()).status).toBe(200);
    expect((await revoke()).status).toBe(200);
    expectRefused(await revoke(), 'client');
  });
});

describe('per address on the pages', () => {
  let server: TestServer;
  let challenge: string;
  beforeAll(async () => {
    server = await startServer({ settings: limits({ auth: 3, login: 2 }) });
    challenge = await oidc.calculatePKCECodeChallenge('v'.repeat(43));
  });
  afterAll(async () => server?.close());

  it('/auth (GET and POST share the budget) answers a 429 page with Retry-After in the asked language, never a redirect', async () => {
    const url = authorizationUrl(server, 'web-app', challenge);
    const first = await new Browser().get(url);
    expect(first.status).toBe(200);
    // POST /auth (OIDC Core §3.1.2.1) counts against the same budget.
    const form = Object.fromEntries(new URL(url).searchParams);
    const posted = await fetch(`${server.issuer}/auth`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString(), redirect: 'manual' });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toMatch(/^\/interaction\//);
    expect((await new Browser().get(url)).status).toBe(200);

    const refused = await new Browser().get(url);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('location')).toBeNull();
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(refused.html).toContain('<h1>Too many attempts</h1>');
    expect(refused.html).toMatch(/There have been too many attempts from your network\. Please wait [12] seconds?, then try again\./);

    // ui_locales (OIDC Core §3.1.2.1) picks French, as Accept-Language does.
    const french = await new Browser().get(authorizationUrl(server, 'web-app', challenge, { ui_locales: 'fr-CA' }));
    expect(french.status).toBe(429);
    expect(french.html).toContain('<html lang="fr">');
    expect(french.html).toContain('<h1>Trop de tentatives</h1>');
    expect(french.html).toMatch(/Il y a eu trop de tentatives depuis votre réseau\. Veuillez patienter [12] secondes?, puis réessayer\./);
    const postedFr = await fetch(`${server.issuer}/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'fr' },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
    expect(postedFr.status).toBe(429);
    expect(await postedFr.text()).toContain('Trop de tentatives');
  });

  it('the login form: past the budget, a friendly page with 429 and Retry-After, even with the right password', async () => {
    await sleep(WINDOW * 1000 + 100);
    const url = authorizationUrl(server, 'web-app', challenge);
    const browser = new Browser(undefined, 'fr-FR,fr;q=0.9,en;q=0.5');
    const page = await browser.get(url);
    expect(page.status).toBe(200);
    const form = parseForm(page.html);
    for (let i = 0; i < 2; i++) {
      const wrong = await browser.submit(page, form, { username: ALICE.username, password: `wrong-${i}` });
      expect(wrong.status).toBe(401);
    }
    const refused = await browser.submit(page, form, ALICE);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.html).toContain('<html lang="fr">');
    expect(refused.html).toContain('<h1>Trop de tentatives</h1>');

    const english = await new Browser(undefined, 'en').submit(page, form, ALICE);
    expect(english.status).toBe(429);
    expect(english.html).toContain('Please wait');

    // Once the window ends, the same form signs in.
    await sleep(Number(refused.headers.get('retry-after')) * 1000 + 100);
    const signedIn = await browser.submit(page, form, ALICE);
    expect(signedIn.status).toBe(0);
    expect(new URL(signedIn.url).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('rate_limits.enabled: false', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ settings: limits({ token: 2 }, { token: 2 }, false) });
  });
  afterAll(async () => server?.close());

  it('refuses nothing beyond the numbers', async () => {
    for (let i = 0; i < 10; i++) expect((await clientCredentials(server)).status).toBe(200);
  });
});

describe('failed client authentications per address, behind a trusted proxy (default budgets)', () => {
  let server: TestServer;
  const ATTACKER = { 'x-forwarded-for': '203.0.113.1' };
  const CLIENT_B = { 'x-forwarded-for': '203.0.113.2' };
  const DEFAULT_WINDOW = 60;
  const DEFAULT_FAILED_CLIENT_AUTH = 60;
  beforeAll(async () => {
    // The connection comes from 127.0.0.1, a trusted proxy: X-Forwarded-For names the client.
    server = await startServer({ clients: [OTHER], settings: { trust_proxy: ['127.0.0.1'] } });
  });
  afterAll(async () => server?.close());

  it(`stops a client-secret guessing run from one address after ${DEFAULT_FAILED_CLIENT_AUTH} failures, before authenticating anything, while client B from another address keeps getting 200`, async () => {
    for (let i = 0; i < DEFAULT_FAILED_CLIENT_AUTH; i++) {
      const guess = await clientCredentials(server, 'machine', `guess-${i}-0123456789-0123456789`, ATTACKER);
      expect(guess.status, `guess ${i + 1}`).toBe(401);
      expect(guess.json.error).toBe('invalid_client');
      expect((await clientCredentials(server, 'other-machine', OTHER_SECRET, CLIENT_B)).status).toBe(200);
    }
    for (let i = 0; i < 20; i++) {
      expectRefused(await clientCredentials(server, 'machine', `guess-more-${i}-0123456789-0123456789`, ATTACKER), 'failedAuth', DEFAULT_WINDOW);
      expect((await clientCredentials(server, 'other-machine', OTHER_SECRET, CLIENT_B)).status).toBe(200);
    }
    // Refused before authentication: the right secret from that address is refused too.
    expectRefused(await clientCredentials(server, 'machine', MACHINE_SECRET, ATTACKER), 'failedAuth', DEFAULT_WINDOW);
    // And so are the three other endpoints where clients authenticate.
    const auth = { authorization: basic('machine', MACHINE_SECRET), ...ATTACKER };
    expectRefused(await postForm(`${server.issuer}/par`, { response_type: 'code', client_id: 'machine' }, auth), 'failedAuth', DEFAULT_WINDOW);
    expectRefused(await postForm(`${server.issuer}/introspect`, { token: 'x' }, auth), 'failedAuth', DEFAULT_WINDOW);
    expectRefused(await postForm(`${server.issuer}/revoke`, { token: 'x' }, auth), 'failedAuth', DEFAULT_WINDOW);
    // The client it targeted is unharmed: from its own address it is served.
    expect((await clientCredentials(server, 'machine', MACHINE_SECRET, { 'x-forwarded-for': '203.0.113.3' })).status).toBe(200);

    expect(await rateLimited(server, 'failed_client_auth', 'ip')).toBe(24);
    expect(await rateLimited(server, 'token', 'ip')).toBe(0);
  });
});

describe('the failed-authentication budget: only failures count, and its window ends', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ settings: limits({ failed_client_auth: 3 }) });
  });
  afterAll(async () => server?.close());

  it('lets any number of successes through, refuses after the 3rd failure, and serves again once the window ends', async () => {
    for (let i = 0; i < 10; i++) expect((await clientCredentials(server)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await clientCredentials(server, 'machine', `wrong-${i}`)).status).toBe(401);
    // The budget is the address's at all four endpoints: /revoke refuses it too.
    const retryAfter = expectRefused(await clientCredentials(server), 'failedAuth');
    expectRefused(await postForm(`${server.issuer}/revoke`, { token: 'x' }, { authorization: basic('nobody', 'wrong') }), 'failedAuth');
    await sleep(retryAfter * 1000 + 100);
    expect((await clientCredentials(server)).status).toBe(200);
    expect((await postForm(`${server.issuer}/revoke`, { token: 'x' }, { authorization: basic('nobody', 'wrong') })).status).toBe(401);
  });
});

describe('the per-address key behind a trusted proxy', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ settings: { trust_proxy: ['127.0.0.1'], ...limits({ token: 3 }) } });
  });
  afterAll(async () => server?.close());

  it('follows the forwarded address (two addresses, two budgets) and believes no entry added before an untrusted hop', async () => {
    const from = (address: string) => clientCredentials(server, 'machine', MACHINE_SECRET, { 'x-forwarded-for': address });
    for (let i = 0; i < 3; i++) expect((await from('203.0.113.10')).status).toBe(200);
    expectRefused(await from('203.0.113.10'), 'address');
    for (let i = 0; i < 3; i++) expect((await from('203.0.113.11')).status).toBe(200);
    // The caller at 203.0.113.10 (not a trusted proxy) prepends a fresh address: not believed.
    expectRefused(await from('198.51.100.7, 203.0.113.10'), 'address');
    expectRefused(await from('203.0.113.11'), 'address');
  });
});

describe('a password-guessing run through the login form, with the default rate limits and lockout', () => {
  let server: TestServer;
  let challenge: string;
  beforeAll(async () => {
    server = await startServer();
    challenge = await oidc.calculatePKCECodeChallenge('v'.repeat(43));
  });
  afterAll(async () => server?.close());

  async function guess(password: string) {
    const browser = new Browser();
    const page = await browser.get(authorizationUrl(server, 'web-app', challenge));
    expect(page.status).toBe(200);
    return browser.submit(page, parseForm(page.html), { username: 'bob', password });
  }

  it("is stopped on the account after a few checked guesses, while another user from the same address signs in", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const page = await guess(`guess-${i}`);
      statuses.push(page.status);
      if (page.status === 429) {
        expect(Number(page.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        // The account's refusal (the login form again, with its message), not the address's page.
        expect(parseForm(page.html).action).toMatch(/\/login$/);
        expect(page.html).not.toContain('from your network');
      } else expect(page.status).toBe(401);
      if (i % 10 === 9) expect((await obtainCode(server, 'web-app')).code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    const checked = statuses.filter((status) => status === 401).length;
    // Lockout checks a few (5 free, then one per doubling wait, lock at 10); the rest are refused unchecked.
    expect(checked).toBeGreaterThanOrEqual(1);
    expect(checked).toBeLessThanOrEqual(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(30 - checked);
    expect(await rateLimited(server, 'login', 'ip')).toBe(0);
  });
});

describe('a legitimate test suite from one address, with the default config', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ clients: [OTHER] });
  });
  afterAll(async () => server?.close());

  it('gets ~300 client_credentials requests of two clients, 40 logins with their code exchanges and a few expected failures through within a minute, none refused', async () => {
    const started = performance.now();
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
    for (let login = 0; login < 40; login++) {
      const { code, verifier, redirectUri } = await obtainCode(server, 'web-app');
      const exchanged = await postForm(`${server.issuer}/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri }, { authorization: basic('web-app', WEB_SECRET) });
      expect(exchanged.status).toBe(200);
      count(exchanged.status);
      for (let i = 0; i < 8; i++) {
        const response = i % 2 === 0 ? await clientCredentials(server) : await clientCredentials(server, 'other-machine', OTHER_SECRET);
        expect(response.status).toBe(200);
        count(response.status);
      }
      // A suite's negative tests: a wrong client secret now and then (20 in all), a wrong password (3).
      if (login % 2 === 0) count((await clientCredentials(server, 'machine', 'wrong-secret')).status);
      if (login % 13 === 1) {
        const browser = new Browser();
        const page = await browser.get(authorizationUrl(server, 'web-app', await oidc.calculatePKCECodeChallenge('v'.repeat(43))));
        count((await browser.submit(page, parseForm(page.html), { username: 'alice', password: 'wrong-password' })).status);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.info(`legitimate suite: ${[...statuses].map(([status, n]) => `${n}×${status}`).join(', ')} and 40 logins in ${seconds.toFixed(1)} s`);
    expect(Object.fromEntries(statuses)).toEqual({ 200: 360, 401: 23 });
    // All inside one default window (60 s), so no budget was reset along the way.
    expect(seconds).toBeLessThan(60);
    for (const endpoint of ['auth', 'login', 'token', 'failed_client_auth']) expect(await rateLimited(server, endpoint, 'ip')).toBe(0);
    expect(await rateLimited(server, 'token', 'client')).toBe(0);
  });
});
