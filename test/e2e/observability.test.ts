import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClientEntry, adminFetch, adminToken } from '../support/admin.js';
import { fapiClient, makeKey } from '../support/fapi.js';
import { basic, obtainCode, postForm } from '../support/flow.js';
import { startServer, type TestServer } from '../support/server.js';

/**
 * GET /observability/sessions, /tokens and /clients (docs/observability.md): authorized as the
 * management API is, refused with its RFC 9457 problems, and counting exactly what this test did
 * on a fresh server.
 */
const MACHINE_SECRET = 'machine-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const GATEWAY_SECRET = 'gateway-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
let server: TestServer;

/** GET /observability/<what> with a Bearer token (or none). */
async function observe(what: string, token?: string) {
  const response = await fetch(`${server.issuer}/observability/${what}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as any };
}

beforeAll(async () => {
  const bankKey = await makeKey('ES256');
  server = await startServer({
    clients: [
      adminClientEntry(),
      adminClientEntry('trusty:observability:read', 'observer'),
      adminClientEntry('invoices:read', 'outsider'),
      fapiClient(undefined, 'bank', bankKey),
      { client_id: 'gateway', client_secret: GATEWAY_SECRET, grant_types: [], resource_server: true },
    ],
  });
});

afterAll(async () => {
  await server?.close();
});

describe('/observability/* is protected like the management API', () => {
  it.each(['sessions', 'tokens', 'clients'])('%s: 401 without a token, 403 without the scope, 200 with trusty:observability:read or trusty:admin', async (what) => {
    const none = await observe(what);
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect(none.headers.get('cache-control')).toBe('no-store');
    // RFC 6750 §3.1: no error code when no token was sent.
    expect(none.headers.get('www-authenticate')).toMatch(new RegExp(`^Bearer realm="${server.issuer}/observability"`));
    expect(none.headers.get('www-authenticate')).not.toContain('error=');
    expect(none.body).toMatchObject({ type: 'urn:trusty:problem:invalid-request', status: 401 });

    const outsider = await observe(what, await adminToken(server, 'outsider'));
    expect(outsider.status).toBe(403);
    expect(outsider.headers.get('content-type')).toContain('application/problem+json');
    expect(outsider.body).toMatchObject({ type: 'urn:trusty:problem:insufficient-scope', status: 403, detail: 'this operation needs the scope trusty:admin or trusty:observability:read' });
    expect(outsider.headers.get('www-authenticate')).toContain('scope="trusty:admin trusty:observability:read"');

    const forged = await observe(what, 'not-a-token');
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain('error="invalid_token"');

    for (const client of ['observer', 'admin-bot']) {
      const allowed = await observe(what, await adminToken(server, client));
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(allowed.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('an unknown summary is a 404 problem', async () => {
    const response = await observe('users', await adminToken(server, 'observer'));
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ type: 'urn:trusty:problem:not-found', status: 404 });
  });
});

describe('/observability/* counts what happened', () => {
  it('sessions, tokens and clients after real activity', async () => {
    // A fresh server: every token below is one this test asks for.
    const fresh = await startServer({ clients: [adminClientEntry(), adminClientEntry('trusty:observability:read', 'observer'), adminClientEntry('invoices:read', 'outsider')] });
    try {
      const observer = await adminToken(fresh, 'observer'); // client_credentials #1 (observer)
      const admin = await adminToken(fresh); // client_credentials #2 (admin-bot)
      const at = (what: string, token = observer) => fetch(`${fresh.issuer}/observability/${what}`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

      // Two clients, two grants: machine twice by client_credentials, web-app once by authorization_code after alice logs in through the pages.
      const machine = { authorization: basic('machine', MACHINE_SECRET) };
      const first = await postForm(`${fresh.issuer}/token`, { grant_type: 'client_credentials' }, machine);
      const second = await postForm(`${fresh.issuer}/token`, { grant_type: 'client_credentials' }, machine);
      expect([first.status, second.status]).toEqual([200, 200]);
      const { code, verifier, redirectUri } = await obtainCode(fresh, 'web-app');
      const exchanged = await postForm(`${fresh.issuer}/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri }, { authorization: basic('web-app', 'web-app-secret-0123456789-abcdefghijklmnopqrstuvwxyz') });
      expect(exchanged.status).toBe(200);
      // One revoked (RFC 7009), one refused request (no token event).
      expect((await postForm(`${fresh.issuer}/revoke`, { token: first.json.access_token as string }, machine)).status).toBe(200);
      expect((await postForm(`${fresh.issuer}/token`, { grant_type: 'client_credentials' }, { authorization: basic('machine', 'wrong-secret') })).status).toBe(401);
      // A service account (API), and another disabled at once.
      expect((await adminFetch(fresh, admin, 'POST', '/service-accounts', { client_id: 'agent-1', scope: 'invoices:read' })).status).toBe(201);
      expect((await adminFetch(fresh, admin, 'POST', '/service-accounts', { client_id: 'agent-2', scope: 'invoices:read' })).status).toBe(201);
      expect((await adminFetch(fresh, admin, 'POST', '/clients/agent-2/disable')).status).toBe(200);

      const sessions = await at('sessions');
      expect(sessions.status).toBe(200);
      expect(sessions.body).toEqual({ generated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), active: 1, active_users: 1, started: { last_hour: 1, last_day: 1 } });

      const tokens = await at('tokens');
      expect(tokens.status).toBe(200);
      const window = {
        issued: 5,
        revoked: 1,
        refresh_token_reused: 0,
        issued_by_grant_type: { client_credentials: 4, authorization_code: 1 },
        // Most events first, then by client_id.
        clients: [
          { client_id: 'machine', issued: 2, revoked: 1, refresh_token_reused: 0 },
          { client_id: 'admin-bot', issued: 1, revoked: 0, refresh_token_reused: 0 },
          { client_id: 'observer', issued: 1, revoked: 0, refresh_token_reused: 0 },
          { client_id: 'web-app', issued: 1, revoked: 0, refresh_token_reused: 0 },
        ],
        other_clients: { clients: 0, issued: 0, revoked: 0, refresh_token_reused: 0 },
      };
      expect(tokens.body).toEqual({ generated_at: expect.any(String), client_limit: 100, last_hour: window, last_day: window });

      // An hour and a minute later (with a new token: the first expired) the hour holds only that
      // token, the day everything.
      fresh.clock.advance(3660);
      const renewed = await adminToken(fresh, 'observer');
      const later = await at('tokens', renewed);
      expect(later.body.last_hour).toEqual({
        issued: 1,
        revoked: 0,
        refresh_token_reused: 0,
        issued_by_grant_type: { client_credentials: 1 },
        clients: [{ client_id: 'observer', issued: 1, revoked: 0, refresh_token_reused: 0 }],
        other_clients: { clients: 0, issued: 0, revoked: 0, refresh_token_reused: 0 },
      });
      expect(later.body.last_day).toEqual({
        ...window,
        issued: 6,
        issued_by_grant_type: { client_credentials: 5, authorization_code: 1 },
        clients: [window.clients[0], { ...window.clients[2]!, issued: 2 }, window.clients[1], window.clients[3]],
      });
      expect((await at('sessions', renewed)).body).toMatchObject({ started: { last_hour: 0, last_day: 1 } });
    } finally {
      await fresh.close();
    }
  });

  it('clients by profile, authentication method, grant type, state, kind and source', async () => {
    const admin = await adminToken(server);
    expect((await adminFetch(server, admin, 'POST', '/service-accounts', { client_id: 'agent-1', scope: 'invoices:read' })).status).toBe(201);
    expect((await adminFetch(server, admin, 'POST', '/service-accounts', { client_id: 'agent-2', scope: 'invoices:read' })).status).toBe(201);
    expect((await adminFetch(server, admin, 'POST', '/clients/agent-2/disable')).status).toBe(200);

    // The same counts from the management API's list, client by client.
    const listed: any[] = [];
    for (let cursor: string | null = null; ; ) {
      const page: any = await adminFetch(server, admin, 'GET', `/clients?limit=200${cursor === null ? '' : `&cursor=${cursor}`}`);
      listed.push(...page.body.items);
      cursor = page.body.next_cursor;
      if (cursor === null) break;
    }
    const enabled = listed.filter((client) => client.enabled);
    const count = (values: string[], names: string[]) => Object.fromEntries(names.map((name) => [name, values.filter((value) => value === name).length]));
    const expected = {
      generated_at: expect.any(String),
      total: listed.length,
      enabled: enabled.length,
      disabled: 1,
      expired: 0,
      service_accounts: 1,
      resource_servers: 1,
      by_source: count(enabled.map((c) => c.source), ['config', 'api']),
      by_profile: count(enabled.map((c) => c.profile ?? 'oidc'), ['oidc', 'fapi2']),
      by_token_endpoint_auth_method: count(enabled.map((c) => c.token_endpoint_auth_method), ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']),
      by_grant_type: count(enabled.flatMap((c) => c.grant_types ?? []), ['authorization_code', 'refresh_token', 'client_credentials']),
    };
    const summary = await observe('clients', await adminToken(server, 'observer'));
    expect(summary.body).toEqual(expected);
    // Anchors that do not depend on the list: the one fapi2 client, the API's one enabled client.
    expect(summary.body).toMatchObject({ by_profile: { fapi2: 1 }, by_source: { api: 1 } });
    expect(summary.body.total).toBe(summary.body.enabled + summary.body.disabled);
    expect(listed.length).toBeGreaterThan(8);
  });
});
