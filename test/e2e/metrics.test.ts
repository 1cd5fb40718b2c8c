import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { SIGNING_ALGS } from '../../src/domain/client.js';
import { adminClientEntry, adminToken } from '../support/admin.js';
import { Browser, parseForm } from '../support/browser.js';
import { ASSERTION_TYPE, clientAssertion, makeKey, type TestKey } from '../support/fapi.js';
import { authorizationUrl, basic, postForm } from '../support/flow.js';
import { ALICE, WEB_SECRET, freePort, startServer, startServerAt, type TestServer } from '../support/server.js';

/** GET /metrics (docs/metrics.md): the Prometheus text format, counters moved by real requests, gauges, protection. */

const AGENT = { client_id: 'metrics-agent', client_secret: 'metrics-agent-secret-0123456789-abcdefghijklmnop', grant_types: ['client_credentials'], scope: 'invoices:read' };
const METRICS_TOKEN = 'metrics-scrape-token-0123456789-abcdefghijklmnopqrstuvwxyz';

/** A scrape, parsed: each sample by `name{label="value",…}` with labels sorted, and each metric's HELP and TYPE. */
interface Scrape {
  readonly text: string;
  readonly samples: Map<string, number>;
  readonly types: Map<string, string>;
  readonly helps: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"(?:,|$)/gy;

function key(name: string, labels: Record<string, string> = {}): string {
  const sorted = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1));
  return `${name}{${sorted.map(([k, v]) => `${k}="${v}"`).join(',')}}`;
}

/** Parses the text exposition format 0.0.4 strictly: a line that is neither a comment nor a sample fails the test. */
function parseExposition(text: string): Scrape {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  const helps = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (comment !== null) {
      (comment[1] === 'HELP' ? helps : types).set(comment[2]!, comment[3]!);
      continue;
    }
    const sample = SAMPLE.exec(line);
    if (sample === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    const body = sample[2] ?? '';
    LABEL.lastIndex = 0;
    let consumed = 0;
    for (let m = LABEL.exec(body); m !== null; m = LABEL.exec(body)) {
      labels[m[1]!] = m[2]!;
      consumed = LABEL.lastIndex;
    }
    if (consumed !== body.length) throw new Error(`malformed labels: ${line}`);
    const value = Number(sample[3]);
    if (Number.isNaN(value) && sample[3] !== 'NaN' && sample[3] !== 'Nan') throw new Error(`not a number: ${line}`);
    const name = key(sample[1]!, labels);
    if (samples.has(name)) throw new Error(`duplicate sample: ${line}`);
    samples.set(name, value);
  }
  return { text, samples, types, helps };
}

async function scrape(server: TestServer, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await fetch(server.issuer + '/metrics', { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  expect(response.headers.get('cache-control')).toBe('no-store');
  return parseExposition(await response.text());
}

const value = (scrape: Scrape, name: string, labels: Record<string, string> = {}) => scrape.samples.get(key(name, labels)) ?? 0;
/** The sum over every sample of `name` whose labels include `labels`. */
function total(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [sample, v] of scrape.samples) {
    if (!sample.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, val]) => sample.includes(`${k}="${val}"`))) sum += v;
  }
  return sum;
}

describe('GET /metrics, open (metrics.auth: none, the default)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ clients: [AGENT] });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers the text format: every line a sample or a comment, HELP and TYPE for every trusty_ metric, process metrics included', async () => {
    const first = await scrape(server);
    const names = [...first.types.keys()];
    expect(names.every((name) => name.startsWith('trusty_'))).toBe(true);
    for (const name of names) expect(first.helps.get(name)?.length).toBeGreaterThan(10);
    expect(first.types.get('trusty_http_requests_total')).toBe('counter');
    expect(first.types.get('trusty_http_request_duration_seconds')).toBe('histogram');
    expect(first.types.get('trusty_tokens_issued_total')).toBe('counter');
    expect(first.types.get('trusty_token_errors_total')).toBe('counter');
    expect(first.types.get('trusty_logins_total')).toBe('counter');
    expect(first.types.get('trusty_account_lockouts_total')).toBe('counter');
    expect(first.types.get('trusty_client_auth_failures_total')).toBe('counter');
    expect(first.types.get('trusty_refresh_token_reuse_total')).toBe('counter');
    expect(first.types.get('trusty_rate_limited_total')).toBe('counter');
    for (const gauge of ['trusty_active_sessions', 'trusty_par_pending', 'trusty_replay_cache_fill_ratio', 'trusty_signing_key_age_seconds', 'trusty_password_hash_queue']) {
      expect(first.types.get(gauge)).toBe('gauge');
    }
    // prom-client's default metrics, under the same prefix.
    expect(first.types.get('trusty_process_cpu_user_seconds_total')).toBe('counter');
    expect(first.types.get('trusty_process_resident_memory_bytes')).toBe('gauge');
    expect(first.types.get('trusty_nodejs_eventloop_lag_seconds')).toBe('gauge');
    // The scrape counts itself, seen by the next one.
    const second = await scrape(server);
    expect(value(second, 'trusty_http_requests_total', { route: '/metrics', method: 'GET', status: '200' }) - value(first, 'trusty_http_requests_total', { route: '/metrics', method: 'GET', status: '200' })).toBe(1);
  });

  it('moves the counters by exactly what real requests did: tokens per grant and client, error codes, logins, refresh reuse, client authentication failures', async () => {
    const before = await scrape(server);
    const tokenStatuses = new Map<number, number>();
    const token = async (form: Record<string, string>, headers: Record<string, string>) => {
      const response = await postForm(server.issuer + '/token', form, headers);
      tokenStatuses.set(response.status, (tokenStatuses.get(response.status) ?? 0) + 1);
      return response;
    };

    // Three client_credentials tokens, one wrong secret, one grant type nobody supports.
    for (let i = 0; i < 3; i++) expect((await token({ grant_type: 'client_credentials' }, { authorization: basic(AGENT.client_id, AGENT.client_secret) })).status).toBe(200);
    const wrongSecret = await token({ grant_type: 'client_credentials' }, { authorization: basic(AGENT.client_id, 'not-the-secret') });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.json.error).toBe('invalid_client');
    const unsupported = await token({ grant_type: 'password', username: 'alice', password: 'x' }, { authorization: basic(AGENT.client_id, AGENT.client_secret) });
    expect(unsupported.status).toBe(400);
    expect(unsupported.json.error).toBe('unsupported_grant_type');

    // A wrong password, then the right one, on the hosted login page; the code, then a refresh
    // token used twice (the second use is reuse: invalid_grant, the grant revoked).
    const browser = new Browser();
    const verifier = oidc.randomPKCECodeVerifier();
    const loginPage = await browser.get(authorizationUrl(server, 'web-app', await oidc.calculatePKCECodeChallenge(verifier), { scope: 'openid offline_access' }));
    const wrong = await browser.submit(loginPage, parseForm(loginPage.html), { username: ALICE.username, password: 'wrong-password' });
    expect(wrong.status).toBe(401);
    const callback = await browser.submit(wrong, parseForm(wrong.html), ALICE);
    expect(callback.status).toBe(0);
    const code = new URL(callback.url).searchParams.get('code')!;
    const web = { authorization: basic('web-app', WEB_SECRET) };
    const tokens = await token({ grant_type: 'authorization_code', code, redirect_uri: server.callback('web-app'), code_verifier: verifier }, web);
    expect(tokens.status).toBe(200);
    const refreshToken = tokens.json.refresh_token as string;
    expect((await token({ grant_type: 'refresh_token', refresh_token: refreshToken }, web)).status).toBe(200);
    const reused = await token({ grant_type: 'refresh_token', refresh_token: refreshToken }, web);
    expect(reused.json.error).toBe('invalid_grant');

    // The other client-authenticated endpoints count their error codes too.
    const badPar = await postForm(server.issuer + '/par', { response_type: 'code', scope: 'openid' }, { authorization: basic('web-app', 'not-the-secret') });
    expect(badPar.json.error).toBe('invalid_client');
    const badIntrospection = await postForm(server.issuer + '/introspect', { token: 'x' }, { authorization: basic(AGENT.client_id, 'not-the-secret') });
    expect(badIntrospection.json.error).toBe('invalid_client');

    // No route: counted as unmatched, the URL nowhere in the exposition. Discovery is answered
    // before Fastify (src/http/static-documents.ts) and counted all the same.
    expect((await fetch(server.issuer + '/no-such-endpoint/secret-looking-path?x=1')).status).toBe(404);
    expect((await fetch(server.issuer + '/.well-known/openid-configuration')).status).toBe(200);

    const after = await scrape(server);
    const moved = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
    const movedTotal = (name: string, labels: Record<string, string> = {}) => total(after, name, labels) - total(before, name, labels);

    expect(moved('trusty_tokens_issued_total', { grant_type: 'client_credentials', client_id: 'metrics-agent' })).toBe(3);
    expect(moved('trusty_tokens_issued_total', { grant_type: 'authorization_code', client_id: 'web-app' })).toBe(1);
    expect(moved('trusty_tokens_issued_total', { grant_type: 'refresh_token', client_id: 'web-app' })).toBe(1);
    expect(movedTotal('trusty_tokens_issued_total')).toBe(5);

    expect(moved('trusty_token_errors_total', { endpoint: 'token', error: 'invalid_client' })).toBe(1);
    expect(moved('trusty_token_errors_total', { endpoint: 'token', error: 'unsupported_grant_type' })).toBe(1);
    expect(moved('trusty_token_errors_total', { endpoint: 'token', error: 'invalid_grant' })).toBe(1);
    expect(moved('trusty_token_errors_total', { endpoint: 'par', error: 'invalid_client' })).toBe(1);
    expect(moved('trusty_token_errors_total', { endpoint: 'introspect', error: 'invalid_client' })).toBe(1);
    expect(movedTotal('trusty_token_errors_total')).toBe(5);

    expect(moved('trusty_logins_total', { result: 'success' })).toBe(1);
    expect(moved('trusty_logins_total', { result: 'failure' })).toBe(1);
    expect(moved('trusty_refresh_token_reuse_total')).toBe(1);
    expect(moved('trusty_client_auth_failures_total')).toBe(3);
    expect(moved('trusty_account_lockouts_total')).toBe(0);

    // Requests per route pattern and status; the histogram, per route and status too, counted
    // each /token request once, under its status.
    expect([...tokenStatuses.keys()].sort()).toEqual([200, 400, 401]);
    for (const [code, count] of tokenStatuses) {
      const labels = { route: '/token', method: 'POST', status: String(code) };
      expect(moved('trusty_http_requests_total', labels)).toBe(count);
      expect(moved('trusty_http_request_duration_seconds_count', labels)).toBe(count);
      expect(moved('trusty_http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(count);
      expect(moved('trusty_http_request_duration_seconds_sum', labels)).toBeGreaterThan(0);
    }
    expect(movedTotal('trusty_http_requests_total', { route: '/token', method: 'POST' })).toBe(8);
    expect(movedTotal('trusty_http_request_duration_seconds_count', { route: '/token', method: 'POST' })).toBe(8);
    expect(moved('trusty_http_requests_total', { route: '/interaction/:id/login', method: 'POST', status: '401' })).toBe(1);
    expect(movedTotal('trusty_http_requests_total', { route: '/interaction/:id/login', method: 'POST' })).toBe(2);
    expect(moved('trusty_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).toBe(1);
    expect(moved('trusty_http_requests_total', { route: '/.well-known/openid-configuration', method: 'GET', status: '200' })).toBe(1);
    expect(moved('trusty_http_request_duration_seconds_count', { route: '/.well-known/openid-configuration', method: 'GET', status: '200' })).toBe(1);
    expect(after.text).not.toContain('no-such-endpoint');
    expect(after.text).not.toContain(code);
  });

  it('computes the gauges at scrape time: active sessions, pending PAR requests, signing key age per algorithm', async () => {
    const before = await scrape(server);
    const pushed = await postForm(
      server.issuer + '/par',
      { client_id: 'web-app', response_type: 'code', redirect_uri: server.callback('web-app'), scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' },
      { authorization: basic('web-app', WEB_SECRET) },
    );
    expect(pushed.status).toBe(201);
    // Past SESSION_COUNT_MAX_AGE_SECONDS: the sessions are counted afresh.
    server.clock.advance(100);
    const after = await scrape(server);
    // The session alice signed in with above.
    expect(value(after, 'trusty_active_sessions')).toBe(1);
    expect(value(after, 'trusty_par_pending') - value(before, 'trusty_par_pending')).toBe(1);
    for (const alg of SIGNING_ALGS) {
      expect(after.samples.has(key('trusty_signing_key_age_seconds', { alg }))).toBe(true);
      // The clock moved 100 s (a second more if a second began between the two scrapes).
      const aged = value(after, 'trusty_signing_key_age_seconds', { alg }) - value(before, 'trusty_signing_key_age_seconds', { alg });
      expect(aged).toBeGreaterThanOrEqual(100);
      expect(aged).toBeLessThanOrEqual(101);
    }
    expect(after.samples.has(key('trusty_signing_key_age_seconds', { alg: 'HS256' }))).toBe(false);
  });
});

describe('the replay cache and password hashing gauges, moved by real requests', () => {
  /** A lowered bound (startServerAt), so that a few requests give a ratio one can read. */
  const REPLAY_CAPACITY = 8;
  /** A real cost, so that a hash holds a hashing thread long enough to be seen (about 120 ms each, some 40 scrapes' worth). */
  const BCRYPT_COST = 11;
  /** Sign-ins submitted at once: more than the hashing threads (the libuv pool less one), fewer than the per-address queue (8). */
  const LOGINS = 6;
  let server: TestServer;
  let dir: string;
  let agentKey: TestKey;
  beforeAll(async () => {
    agentKey = await makeKey('ES256');
    dir = mkdtempSync(join(tmpdir(), 'trusty-metrics-'));
    server = await startServerAt(await freePort(), dir, {
      bounds: { replayCacheCapacity: REPLAY_CAPACITY },
      extra: {
        clients: [{ client_id: 'jwt-agent', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [agentKey.publicJwk] }, grant_types: ['client_credentials'], scope: 'invoices:read' }],
        settings: { passwords: { bcrypt_cost: BCRYPT_COST } },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('trusty_replay_cache_fill_ratio is exactly k / capacity after k private_key_jwt requests (each assertion jti remembered, RFC 7523 §3)', async () => {
    const empty = await scrape(server);
    expect(empty.samples.get(key('trusty_replay_cache_fill_ratio'))).toBe(0);
    for (let k = 1; k <= 3; k++) {
      const issued = await postForm(server.issuer + '/token', {
        grant_type: 'client_credentials',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await clientAssertion(server, 'jwt-agent', agentKey),
      });
      expect(issued.status).toBe(200);
      expect((await scrape(server)).samples.get(key('trusty_replay_cache_fill_ratio'))).toBe(k / REPLAY_CAPACITY);
    }
    // A refused request (a secret where an assertion is due) remembers nothing.
    expect((await postForm(server.issuer + '/token', { grant_type: 'client_credentials' }, { authorization: basic('jwt-agent', 'a-secret') })).status).toBe(401);
    expect((await scrape(server)).samples.get(key('trusty_replay_cache_fill_ratio'))).toBe(3 / REPLAY_CAPACITY);
  });

  it('trusty_password_hash_queue counts the sign-ins holding or waiting for a hashing thread while they do, and 0 once they are answered', async () => {
    const challenge = await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier());
    const pages = await Promise.all(
      Array.from({ length: LOGINS }, async () => {
        const browser = new Browser();
        return { browser, page: await browser.get(authorizationUrl(server, 'web-app', challenge)) };
      }),
    );
    expect(value(await scrape(server), 'trusty_password_hash_queue')).toBe(0);
    // Submitted at once; /metrics is scraped again and again until every one is answered. The
    // hashes take LOGINS / threads × ~120 ms, each scrape a few milliseconds: scrapes land
    // while hashes are held, whatever the machine's speed (a slower machine hashes slower too).
    let answered = false;
    const logins = Promise.all(pages.map(({ browser, page }) => browser.submit(page, parseForm(page.html), ALICE))).finally(() => {
      answered = true;
    });
    const seen: number[] = [];
    while (!answered) seen.push(value(await scrape(server), 'trusty_password_hash_queue'));
    for (const callback of await logins) expect(callback.status).toBe(0); // each signed in, back at the client
    expect(Math.max(...seen)).toBeGreaterThan(0);
    expect(Math.max(...seen)).toBeLessThanOrEqual(LOGINS);
    expect(value(await scrape(server), 'trusty_password_hash_queue')).toBe(0);
  });
});

describe('a rate-limit refusal (rate_limits.per_ip.token: 2)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ clients: [AGENT], settings: { rate_limits: { per_ip: { token: 2 } } } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('is counted as trusty_token_errors_total{endpoint="token",error="temporarily_unavailable"} (429), and in trusty_rate_limited_total', async () => {
    const before = await scrape(server);
    const responses: Array<Awaited<ReturnType<typeof postForm>>> = [];
    for (let i = 0; i < 3; i++) responses.push(await postForm(server.issuer + '/token', { grant_type: 'client_credentials' }, { authorization: basic(AGENT.client_id, AGENT.client_secret) }));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 429]);
    expect(responses[2]!.json.error).toBe('temporarily_unavailable');
    expect(Number(responses[2]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const after = await scrape(server);
    const moved = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
    expect(moved('trusty_token_errors_total', { endpoint: 'token', error: 'temporarily_unavailable' })).toBe(1);
    expect(total(after, 'trusty_token_errors_total') - total(before, 'trusty_token_errors_total')).toBe(1);
    expect(moved('trusty_rate_limited_total', { endpoint: 'token', key: 'ip' })).toBe(1);
    expect(moved('trusty_http_requests_total', { route: '/token', method: 'POST', status: '429' })).toBe(1);
    expect(moved('trusty_http_request_duration_seconds_count', { route: '/token', method: 'POST', status: '429' })).toBe(1);
    expect(moved('trusty_tokens_issued_total', { grant_type: 'client_credentials', client_id: AGENT.client_id })).toBe(2);
  });
});

describe('GET /metrics with metrics.auth: token', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ settings: { metrics: { auth: 'token', token: METRICS_TOKEN } } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers 401 with a Bearer challenge (RFC 6750 §3) without the token, with a wrong one, or another scheme', async () => {
    const realm = `Bearer realm="${server.issuer}/metrics"`;
    const cases: Array<[Record<string, string>, string]> = [
      [{}, realm],
      [{ authorization: basic('web-app', WEB_SECRET) }, realm],
      [{ authorization: `Bearer ${METRICS_TOKEN}x` }, `${realm}, error="invalid_token"`],
      [{ authorization: 'Bearer short' }, `${realm}, error="invalid_token"`],
      [{ authorization: `Bearer ${METRICS_TOKEN.toUpperCase()}` }, `${realm}, error="invalid_token"`],
    ];
    for (const [headers, challenge] of cases) {
      const response = await fetch(server.issuer + '/metrics', { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(challenge);
      expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      const body = (await response.json()) as { status: number; detail: string };
      expect(body.status).toBe(401);
      expect(body.detail).not.toContain(METRICS_TOKEN);
    }
  });

  it('answers 200 with the configured token', async () => {
    const result = await scrape(server, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(result.types.get('trusty_http_requests_total')).toBe('counter');
    // The refused scrapes were counted too.
    expect(value(result, 'trusty_http_requests_total', { route: '/metrics', method: 'GET', status: '401' })).toBe(5);
  });
});

describe('GET /metrics with metrics.auth: admin (a management-API access token)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      clients: [adminClientEntry('trusty:metrics', 'prometheus'), adminClientEntry('trusty:clients:read', 'reader')],
      // The second failed login in a row locks the account (docs/lockout.md).
      settings: { metrics: { auth: 'admin' }, lockout: { free_failures: 1, lock_after: 2 } },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves a client_credentials token with the trusty:metrics scope', async () => {
    const token = await adminToken(server, 'prometheus');
    const result = await scrape(server, { authorization: `Bearer ${token}` });
    expect(value(result, 'trusty_tokens_issued_total', { grant_type: 'client_credentials', client_id: 'prometheus' })).toBe(1);
  });

  it('answers 403 insufficient_scope to a token without it, 401 without a token', async () => {
    const token = await adminToken(server, 'reader');
    const refused = await fetch(server.issuer + '/metrics', { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(refused.headers.get('www-authenticate')).toContain('scope="trusty:admin trusty:metrics"');
    const anonymous = await fetch(server.issuer + '/metrics');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  });

  it('counts an account lock (audit user.locked) and the failed logins that led to it', async () => {
    const token = await adminToken(server, 'prometheus');
    const before = await scrape(server, { authorization: `Bearer ${token}` });
    const browser = new Browser();
    let page = await browser.get(authorizationUrl(server, 'web-app', await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier())));
    for (let attempt = 0; attempt < 2; attempt++) {
      page = await browser.submit(page, parseForm(page.html), { username: 'bob', password: 'not-bob-password' });
      expect(page.status).toBe(401);
    }
    const after = await scrape(server, { authorization: `Bearer ${token}` });
    expect(value(after, 'trusty_account_lockouts_total') - value(before, 'trusty_account_lockouts_total')).toBe(1);
    expect(value(after, 'trusty_logins_total', { result: 'failure' }) - value(before, 'trusty_logins_total', { result: 'failure' })).toBe(2);
  });
});

describe('metrics.enabled: false', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ clients: [AGENT], settings: { metrics: { enabled: false } } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('has no /metrics (404) and counts nothing, while the endpoints work as before', async () => {
    const response = await fetch(server.issuer + '/metrics');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
    expect(server.trusty.deps.metrics).toBeUndefined();
    expect((await postForm(server.issuer + '/token', { grant_type: 'client_credentials' }, { authorization: basic(AGENT.client_id, AGENT.client_secret) })).status).toBe(200);
  });
});

describe('METRICS_TOKEN', () => {
  it('sets metrics.token from the environment; auth: token without any token names both', () => {
    const text = 'issuer: http://127.0.0.1:8081\nmetrics:\n  auth: token\n';
    expect(parseConfig(text, 'config.yaml', { METRICS_TOKEN }).metrics.token).toBe(METRICS_TOKEN);
    expect(() => parseConfig(text, 'config.yaml', {})).toThrow('config.yaml: metrics.token (or METRICS_TOKEN): is required with metrics.auth: token');
  });

  it('refuses a token a Bearer header could not carry (RFC 6750 §2.1 token68), without echoing it', () => {
    const text = 'issuer: http://127.0.0.1:8081\nmetrics:\n  auth: token\n';
    const unsendable = `${METRICS_TOKEN} with spaces`;
    let message = '';
    try {
      parseConfig(text, 'config.yaml', { METRICS_TOKEN: unsendable });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('config.yaml: metrics.token (or METRICS_TOKEN): must be characters of A–Z a–z 0–9 - . _ ~ + / (then = at the end only)');
    expect(message).not.toContain(unsendable);
    expect(parseConfig(text, 'config.yaml', { METRICS_TOKEN: `${METRICS_TOKEN}+/~.==` }).metrics.token).toBe(`${METRICS_TOKEN}+/~.==`);
  });
});
