import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { adminClientEntry, adminFetch, adminToken } from '../support/admin.js';
import { runCli } from '../support/cli.js';
import { clientAssertion, ASSERTION_TYPE, makeKey } from '../support/fapi.js';
import { basic, postForm } from '../support/flow.js';
import { freePort, startServer, startServerAt, type TestServer } from '../support/server.js';

/**
 * The management API's clients (docs/clients.md): config.yaml's read-only, the API's created,
 * changed, disabled, deleted, their secret rotated with a grace period and their keys replaced;
 * every change audited without secrets and seen by the protocol endpoints at once.
 */
const GATEWAY_SECRET = 'gateway-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
let server: TestServer;
let admin: string;
let writer: string;
let reader: string;

const token = (clientId: string, secret: string, form: Record<string, string> = {}) =>
  postForm(server.issuer + '/token', { grant_type: 'client_credentials', ...form }, { authorization: basic(clientId, secret) });
const introspect = (value: string) => postForm(server.issuer + '/introspect', { token: value }, { authorization: basic('gateway', GATEWAY_SECRET) });
const api = (method: string, path: string, body?: unknown, as = admin) => adminFetch(server, as, method, path, body);
const machineEntry = (clientId: string, more: Record<string, unknown> = {}) => ({ client_id: clientId, grant_types: ['client_credentials'], scope: 'invoices:read invoices:write', ...more });

interface AuditRow {
  event: string;
  client_id: string | null;
  actor: string | null;
  details: string | null;
}
/** The management changes of a client, oldest first (read with SQLite directly; the audit API is another test's). */
async function auditOf(clientId: string): Promise<AuditRow[]> {
  await server.trusty.deps.control.flush();
  const db = new Database(server.dbPath, { readonly: true });
  try {
    return db.prepare('SELECT event, client_id, actor, details FROM audit_log WHERE client_id = ? AND actor IS NOT NULL ORDER BY id').all(clientId) as AuditRow[];
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  server = await startServer({
    clients: (issuer) => [
      adminClientEntry(),
      adminClientEntry('trusty:clients:write', 'writer'),
      adminClientEntry('trusty:clients:read', 'reader'),
      { client_id: 'gateway', client_secret: GATEWAY_SECRET, grant_types: [], resource_server: true, introspection_audiences: [issuer] },
    ],
  });
});

// Fresh admin tokens for each test: some move the clock past their lifetime.
beforeEach(async () => {
  [admin, writer, reader] = await Promise.all([adminToken(server), adminToken(server, 'writer'), adminToken(server, 'reader')]);
});

afterAll(async () => {
  await server?.close();
});

describe('the clients API refuses', () => {
  it('a read-only token a write: 403 insufficient_scope', async () => {
    const response = await api('POST', '/clients', machineEntry('nope'), reader);
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it.each([
    [{ ...machineEntry('bad-uri'), grant_types: ['authorization_code'], redirect_uris: ['not a url'] }, 'redirect_uris.0'],
    [{ ...machineEntry('bad id!') }, 'client_id'],
    [{ ...machineEntry('jwt-without-keys'), token_endpoint_auth_method: 'private_key_jwt' }, 'jwks'],
    [{ ...machineEntry('private-key'), token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }] } }, 'jwks.keys.0'],
    [{ ...machineEntry('past'), expires_at: '2001-01-01T00:00:00Z' }, 'expires_at'],
    [{ ...machineEntry('not-a-date'), expires_at: 'tomorrow' }, 'expires_at'],
    [{ ...machineEntry('huh'), colour: 'blue' }, 'colour'],
  ])('bad input %j: 400 problem naming %s', async (body, field) => {
    const response = await api('POST', '/clients', body);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status: 400, field });
  });

  it('trusty:clients:write creating a client with a trusty: scope: 403 (it would escalate to trusty:admin)', async () => {
    const response = await api('POST', '/clients', machineEntry('sneaky', { scope: 'trusty:admin' }), writer);
    expect(response.status).toBe(403);
    expect(response.body.detail).toBe('client sneaky holds trusty: scopes: only a trusty:admin caller may create or change it');
    expect((await api('GET', '/clients/sneaky')).status).toBe(404);
  });

  it('trusty:clients:write giving an existing client a trusty: scope, or taking over a trusty: client: 403', async () => {
    expect((await api('POST', '/clients', machineEntry('plain'), writer)).status).toBe(201);
    expect((await api('PATCH', '/clients/plain', { scope: 'invoices:read trusty:clients:write' }, writer)).status).toBe(403);
    const ops = await api('POST', '/clients', machineEntry('ops-bot', { scope: 'trusty:admin' }));
    expect(ops.status).toBe(201);
    expect((await api('POST', '/clients/ops-bot/secret', {}, writer)).status).toBe(403);
    expect((await api('PATCH', '/clients/ops-bot', { description: 'mine now' }, writer)).status).toBe(403);
    expect((await api('POST', '/clients/ops-bot/disable', undefined, writer)).status).toBe(403);
    expect((await api('DELETE', '/clients/ops-bot', undefined, writer)).status).toBe(403);
    // trusty:admin may.
    expect((await api('PATCH', '/clients/plain', { scope: 'invoices:read trusty:clients:read' })).status).toBe(200);
  });

  it('trusty:clients:write on a client holding trusty:admin through a role: 403, whatever the operation', async () => {
    expect((await api('POST', '/roles', { name: 'ops', scope: 'trusty:admin' })).status).toBe(201);
    const created = await api('POST', '/clients', machineEntry('role-ops-bot', { scope: 'reports:read', roles: ['ops'] }));
    expect(created.status).toBe(201);
    const key = await makeKey('ES256');
    for (const [method, path, body] of [
      ['POST', '/clients/role-ops-bot/secret', {}],
      ['PATCH', '/clients/role-ops-bot', { description: 'mine now' }],
      ['PUT', '/clients/role-ops-bot/jwks', { keys: [key.publicJwk] }],
      ['POST', '/clients/role-ops-bot/disable', undefined],
      ['DELETE', '/clients/role-ops-bot', undefined],
    ] as const) {
      const response = await api(method, path, body, writer);
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.body.detail).toBe('client role-ops-bot holds trusty: scopes: only a trusty:admin caller may create or change it');
    }
    // Its secret still works, and it is still an admin.
    expect((await token('role-ops-bot', created.body.client_secret, { scope: 'trusty:admin' })).status).toBe(200);
    // Nor may the writer make such a client, or give an existing one the role: nothing is written.
    expect((await api('POST', '/clients', machineEntry('role-sneaky', { roles: ['ops'] }), writer)).status).toBe(403);
    expect((await api('GET', '/clients/role-sneaky')).status).toBe(404);
    expect((await api('POST', '/clients', machineEntry('role-plain'), writer)).status).toBe(201);
    expect((await api('PATCH', '/clients/role-plain', { description: 'promoted', roles: ['ops'] }, writer)).status).toBe(403);
    expect((await api('GET', '/clients/role-plain')).body.description).toBeNull();
    expect((await auditOf('role-plain')).map((row) => row.event)).toEqual(['client.created']);
    expect((await auditOf('role-sneaky')).map((row) => row.event)).toEqual([]);
  });

  it('a PATCH or create naming an unknown role: 400 naming roles.N, and nothing changed or audited', async () => {
    expect((await api('POST', '/clients', machineEntry('unknown-role'))).status).toBe(201);
    const patched = await api('PATCH', '/clients/unknown-role', { description: 'changed', roles: ['nope'] });
    expect(patched.status).toBe(400);
    expect(patched.body).toMatchObject({ status: 400, field: 'roles.0', detail: 'roles.0: names an unknown role "nope"' });
    expect((await api('GET', '/clients/unknown-role')).body.description).toBeNull();
    const created = await api('POST', '/clients', machineEntry('unknown-role-2', { roles: ['nope'] }));
    expect(created.status).toBe(400);
    expect(created.body.field).toBe('roles.0');
    expect((await api('GET', '/clients/unknown-role-2')).status).toBe(404);
    expect((await auditOf('unknown-role')).map((row) => row.event)).toEqual(['client.created']);
    expect(await auditOf('unknown-role-2')).toEqual([]);
  });

  it('a config.yaml client: read, never changed (409)', async () => {
    const read = await api('GET', '/clients/web-app', undefined, reader);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ client_id: 'web-app', source: 'config', kind: 'client', enabled: true, owner: null, expires_at: null });
    expect(JSON.stringify(read.body)).not.toMatch(/secret_digest|web-app-secret/);
    for (const [method, path, body] of [
      ['PATCH', '/clients/web-app', { client_name: 'Renamed' }],
      ['DELETE', '/clients/web-app', undefined],
      ['POST', '/clients/web-app/disable', undefined],
      ['POST', '/clients/web-app/secret', {}],
      ['PUT', '/clients/web-app/jwks', { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] }],
    ] as const) {
      const response = await api(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(409);
      expect(response.body.detail).toBe('client web-app is declared in config.yaml; change it there');
    }
  });

  it('a client_id that exists: 409; an unknown one: 404', async () => {
    expect((await api('POST', '/clients', machineEntry('web-app'))).status).toBe(409);
    expect((await api('GET', '/clients/nobody')).status).toBe(404);
    expect((await api('PATCH', '/clients/nobody', { client_name: 'x' })).status).toBe(404);
  });

  it('the secret in an update: 400 (rotation is its own operation)', async () => {
    await api('POST', '/clients', machineEntry('patch-secret'));
    const response = await api('PATCH', '/clients/patch-secret', { client_secret: 'x'.repeat(40) });
    expect(response.status).toBe(400);
    expect(response.body.field).toBe('client_secret');
  });
});

describe('an API client', () => {
  it('is created with a generated secret shown once, gets tokens at once, and is audited without its secret', async () => {
    const created = await api('POST', '/clients', machineEntry('billing', { owner: 'team-billing', description: 'invoices' }), writer);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${server.issuer}/admin/v1/clients/billing`);
    const secret = created.body.client_secret as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ client_id: 'billing', source: 'api', kind: 'client', enabled: true, owner: 'team-billing', description: 'invoices' });
    expect((await token('billing', secret, { scope: 'invoices:read' })).status).toBe(200);
    const read = await api('GET', '/clients/billing', undefined, reader);
    expect(read.body.client_secret).toBeUndefined();
    const audit = await auditOf('billing');
    expect(audit.map((row) => [row.event, row.actor])).toContainEqual(['client.created', 'client:writer']);
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('brings its custom scopes into the discovery document without a restart', async () => {
    const discovery = async () => (await (await fetch(server.issuer + '/.well-known/openid-configuration')).json()) as { scopes_supported: string[] };
    expect((await discovery()).scopes_supported).not.toContain('ledger:audit');
    expect((await api('POST', '/clients', machineEntry('ledger-auditor', { scope: 'ledger:audit' }))).status).toBe(201);
    // The document is rebuilt after the change, in the background: a moment at most.
    for (let i = 0; i < 50 && !(await discovery()).scopes_supported.includes('ledger:audit'); i++) await new Promise((r) => setTimeout(r, 20));
    expect((await discovery()).scopes_supported).toContain('ledger:audit');
  });

  it('is listed with paging and filters', async () => {
    for (const id of ['list-a', 'list-b', 'list-c']) expect((await api('POST', '/clients', machineEntry(id))).status).toBe(201);
    const first = await api('GET', '/clients?client_id_prefix=list-&limit=2', undefined, reader);
    expect(first.status).toBe(200);
    expect(first.body.items.map((c: { client_id: string }) => c.client_id)).toEqual(['list-a', 'list-b']);
    const second = await api('GET', `/clients?client_id_prefix=list-&limit=2&cursor=${first.body.next_cursor}`, undefined, reader);
    expect(second.body).toMatchObject({ items: [{ client_id: 'list-c' }], next_cursor: null });
    const config = await api('GET', '/clients?source=config&limit=200');
    expect(config.body.items.every((c: { source: string }) => c.source === 'config')).toBe(true);
    expect(config.body.items.map((c: { client_id: string }) => c.client_id)).toContain('web-app');
    const codeClients = await api('GET', '/clients?grant_type=authorization_code&limit=200');
    expect(codeClients.body.items.map((c: { client_id: string }) => c.client_id)).not.toContain('list-a');
    expect(codeClients.body.items.map((c: { client_id: string }) => c.client_id)).toContain('web-app');
    await api('POST', '/clients/list-b/disable');
    const disabled = await api('GET', '/clients?client_id_prefix=list-&enabled=false');
    expect(disabled.body.items.map((c: { client_id: string }) => c.client_id)).toEqual(['list-b']);
    expect((await api('GET', '/clients?limit=201')).body.field).toBe('limit');
    expect((await api('GET', '/clients?cursor=!!')).body.field).toBe('cursor');
  });

  it('is changed by a merge patch, checked with config.yaml rules, and the change is seen by /token at once', async () => {
    const { body } = await api('POST', '/clients', machineEntry('patched'));
    expect((await token('patched', body.client_secret, { scope: 'reports:read' })).json.error).toBe('invalid_scope');
    const patched = await api('PATCH', '/clients/patched', { scope: 'reports:read', description: 'reports', owner: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ scope: 'reports:read', description: 'reports', owner: null });
    expect((await token('patched', body.client_secret, { scope: 'reports:read' })).status).toBe(200);
    const bad = await api('PATCH', '/clients/patched', { grant_types: ['authorization_code'] });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('redirect_uris');
    const audit = await auditOf('patched');
    const update = audit.find((row) => row.event === 'client.updated')!;
    expect(JSON.parse(update.details!)).toMatchObject({ before: { scope: 'invoices:read invoices:write' }, after: { scope: 'reports:read' } });
  });

  it('disabled: its next token request is refused and its earlier token introspects inactive; enabled: old tokens stay dead', async () => {
    const { body } = await api('POST', '/clients', machineEntry('switch'));
    const earlier = (await token('switch', body.client_secret)).json.access_token as string;
    expect((await introspect(earlier)).json.active).toBe(true);
    const disabled = await api('POST', '/clients/switch/disable', undefined, writer);
    expect(disabled.body).toMatchObject({ enabled: false });
    expect((await token('switch', body.client_secret)).json.error).toBe('invalid_client');
    expect((await introspect(earlier)).json).toEqual({ active: false });
    server.clock.advance(2);
    expect((await api('POST', '/clients/switch/enable', undefined, writer)).body).toMatchObject({ enabled: true });
    expect((await introspect(earlier)).json).toEqual({ active: false });
    const fresh = (await token('switch', body.client_secret)).json.access_token as string;
    expect((await introspect(fresh)).json.active).toBe(true);
    expect((await auditOf('switch')).map((row) => row.event)).toEqual(expect.arrayContaining(['client.created', 'client.disabled', 'client.enabled']));
  });

  it('deleted: gone (404), refused at /token, its tokens inactive; a new client of the same id does not revive them', async () => {
    const { body } = await api('POST', '/clients', machineEntry('leaving'));
    const earlier = (await token('leaving', body.client_secret)).json.access_token as string;
    expect((await api('DELETE', '/clients/leaving', undefined, writer)).status).toBe(204);
    expect((await api('GET', '/clients/leaving')).status).toBe(404);
    expect((await token('leaving', body.client_secret)).json.error).toBe('invalid_client');
    expect((await introspect(earlier)).json).toEqual({ active: false });
    server.clock.advance(2);
    expect((await api('POST', '/clients', machineEntry('leaving'))).status).toBe(201);
    expect((await introspect(earlier)).json).toEqual({ active: false });
    expect((await auditOf('leaving')).map((row) => row.event)).toEqual(['client.created', 'client.deleted', 'client.created']);
  });
});

describe('secret rotation', () => {
  it('returns a new secret once; the previous one works for the grace period, then is refused', async () => {
    const { body } = await api('POST', '/clients', machineEntry('rotating'));
    const old = body.client_secret as string;
    const rotated = await api('POST', '/clients/rotating/secret', { grace_seconds: 3600 }, writer);
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.client_secret as string;
    expect(fresh).not.toBe(old);
    expect(Date.parse(rotated.body.previous_secret_expires_at)).toBe((server.clock.now() + 3600) * 1000);
    expect((await token('rotating', fresh)).status).toBe(200);
    expect((await token('rotating', old)).status).toBe(200);
    server.clock.advance(3601);
    expect((await token('rotating', old)).json.error).toBe('invalid_client');
    expect((await token('rotating', fresh)).status).toBe(200);
    const audit = await auditOf('rotating');
    expect(audit.map((row) => row.event)).toContain('client.secret_rotated');
    expect(JSON.stringify(audit)).not.toContain(fresh);
  });

  it('grace 0 ends the previous secret at once; the default is 24 h; a grace beyond 30 days: 400', async () => {
    const { body } = await api('POST', '/clients', machineEntry('rotate-now'));
    const now = await api('POST', '/clients/rotate-now/secret', { grace_seconds: 0 });
    expect(now.body.previous_secret_expires_at).toBeNull();
    expect((await token('rotate-now', body.client_secret)).json.error).toBe('invalid_client');
    const byDefault = await api('POST', '/clients/rotate-now/secret');
    expect(Date.parse(byDefault.body.previous_secret_expires_at)).toBe((server.clock.now() + 86400) * 1000);
    const tooLong = await api('POST', '/clients/rotate-now/secret', { grace_seconds: 2592001 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.field).toBe('grace_seconds');
  });

  it('a private_key_jwt client has no secret to rotate: 409', async () => {
    const key = await makeKey('ES256');
    await api('POST', '/clients', machineEntry('keyed', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } }));
    expect((await api('POST', '/clients/keyed/secret', {})).status).toBe(409);
  });
});

describe('client keys', () => {
  const assertionToken = async (clientId: string, key: Awaited<ReturnType<typeof makeKey>>) =>
    postForm(server.issuer + '/token', {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await clientAssertion(server, clientId, key),
    });

  it('replaced: the old key is refused at once, the new one accepted; added: both work; private or 21st keys refused', async () => {
    const [first, second, third] = await Promise.all([makeKey('ES256', 'k1'), makeKey('ES256', 'k2'), makeKey('ES256', 'k3')]);
    await api('POST', '/clients', machineEntry('rollover', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [first.publicJwk] } }));
    expect((await assertionToken('rollover', first)).status).toBe(200);
    const replaced = await api('PUT', '/clients/rollover/jwks', { keys: [second.publicJwk] }, writer);
    expect(replaced.status).toBe(200);
    expect((await assertionToken('rollover', first)).json.error).toBe('invalid_client');
    expect((await assertionToken('rollover', second)).status).toBe(200);
    const added = await api('POST', '/clients/rollover/jwks/keys', third.publicJwk, writer);
    expect(added.status).toBe(200);
    expect(added.body.jwks.keys.map((k: { kid: string }) => k.kid)).toEqual(['k2', 'k3']);
    expect((await assertionToken('rollover', second)).status).toBe(200);
    expect((await assertionToken('rollover', third)).status).toBe(200);
    expect((await api('POST', '/clients/rollover/jwks/keys', third.publicJwk)).status).toBe(409);
    const exported = await import('jose').then((jose) => jose.exportJWK(third.privateKey));
    const withPrivate = await api('POST', '/clients/rollover/jwks/keys', { ...exported, kid: 'k4' });
    expect(withPrivate.status).toBe(400);
    const many = Array.from({ length: 21 }, (_, i) => ({ ...second.publicJwk, kid: `n${i}` }));
    const tooMany = await api('PUT', '/clients/rollover/jwks', { keys: many });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.field).toBe('keys');
    expect((await auditOf('rollover')).filter((row) => row.event === 'client.jwks_changed')).toHaveLength(2);
  });
});

describe('config.yaml and the API together', () => {
  it('API clients survive a restart untouched by the seed; a config.yaml client_id an API client holds stops the start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trusty-api-clients-'));
    const port = await freePort();
    const admins = { clients: [adminClientEntry()] };
    let first: TestServer | undefined = await startServerAt(port, dir, { extra: admins });
    try {
      const token1 = await adminToken(first);
      const created = await adminFetch(first, token1, 'POST', '/clients', machineEntry('survivor', { owner: 'ops' }));
      expect(created.status).toBe(201);
      await first.close();
      first = undefined;
      const second = await startServerAt(port, dir, { extra: admins });
      try {
        const read = await adminFetch(second, await adminToken(second), 'GET', '/clients/survivor');
        expect(read.body).toMatchObject({ source: 'api', enabled: true, owner: 'ops' });
        const issued = await postForm(second.issuer + '/token', { grant_type: 'client_credentials' }, { authorization: basic('survivor', created.body.client_secret) });
        expect(issued.status).toBe(200);
      } finally {
        await second.close();
      }
      const clash = { clients: [adminClientEntry(), { client_id: 'survivor', client_secret: 'x'.repeat(40), grant_types: ['client_credentials'], scope: 'a' }] };
      // clients[0..4] are the test defaults, [5] the admin client: survivor is clients[6].
      await expect(startServerAt(port, dir, { extra: clash })).rejects.toThrow(/clients\[6\]\.client_id: "survivor" is already a client made through the management API/);
    } finally {
      await first?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Each run starts node with tsx: seconds on a busy machine.
describe('trusty clients, run as a process while the server runs', { timeout: 120_000 }, () => {
  const cli = (...args: string[]) => runCli(['--config', server.configPath, ...args]);

  it('creates from a YAML file (the server takes tokens at once), rotates the secret, refuses config.yaml clients (exit 4)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trusty-cli-client-'));
    const file = join(dir, 'client.yaml');
    writeFileSync(file, 'client_id: cli-made\ngrant_types: [client_credentials]\nscope: invoices:read\nowner: ops\n');
    const created = await cli('--json', 'clients', 'create', '--file', file);
    rmSync(dir, { recursive: true, force: true });
    expect(created.code).toBe(0);
    const body = JSON.parse(created.stdout);
    expect(body).toMatchObject({ client_id: 'cli-made', source: 'api', owner: 'ops' });
    expect((await token('cli-made', body.client_secret)).status).toBe(200);
    const rotated = await cli('--json', 'clients', 'rotate-secret', 'cli-made', '--grace', '0');
    expect(rotated.code).toBe(0);
    const { client_secret: fresh } = JSON.parse(rotated.stdout);
    expect((await token('cli-made', body.client_secret)).json.error).toBe('invalid_client');
    expect((await token('cli-made', fresh)).status).toBe(200);
    for (const limit of ['0x10', '0', '201', '1e2', ' 5', '5.0']) {
      const bad = await cli('clients', 'list', '--limit', limit);
      expect(bad.code, limit).toBe(2);
      expect(bad.stderr).toBe('trusty: --limit must be an integer from 1 to 200\n');
    }
    const refused = await cli('clients', 'disable', 'web-app');
    expect(refused.code).toBe(4);
    expect(refused.stderr).toBe('trusty: client web-app is declared in config.yaml; change it there\n');
  });
});
