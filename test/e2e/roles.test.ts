import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SECRET, adminClientEntry, adminFetch, adminToken } from '../support/admin.js';
import { runCli } from '../support/cli.js';
import { basic, openidCodeFlow, postForm } from '../support/flow.js';
import { ALICE, WEB_SECRET, freePort, startServer, startServerAt, type TestServer } from '../support/server.js';

/** Roles for services and agents (issue 13 item 4, docs/roles.md), against a listening server. */
const SECRET = 'role-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const MACHINE_SECRET = 'machine-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const OWN = 'https://own.example/';
const BILLING = 'https://billing.example/';
const FILE_ROLES = [
  { name: 'billing', description: 'Bills customers', scope: 'invoices:write', resources: [BILLING] },
  { name: 'support', scope: 'tickets:read' },
];
const service = (id: string, extra: Record<string, unknown> = {}) => ({
  client_id: id,
  client_secret: SECRET,
  grant_types: ['client_credentials'],
  scope: 'invoices:read',
  resources: [OWN],
  ...extra,
});

let server: TestServer;
let admin: string;
let writer: string;

beforeAll(async () => {
  server = await startServer({
    clients: [
      adminClientEntry(),
      adminClientEntry('trusty:clients:write', 'writer'),
      adminClientEntry('trusty:clients:read', 'reader'),
      service('svc', { roles: ['billing'], roles_claim: true }),
      service('svc-quiet', { roles: ['billing'] }),
      {
        client_id: 'rp',
        client_secret: SECRET,
        redirect_uris: [`http://127.0.0.1:9/rp/callback`],
        scope: 'openid profile email',
        require_consent: false,
        roles_claim: true,
      },
    ],
    settings: {
      roles: FILE_ROLES,
      users: [
        { ...ALICE, claims: { name: 'Alice Martin', email: 'alice@example.com' }, roles: ['support', 'billing'] },
        { username: 'bob', password: 'bob-password' },
      ],
    },
  });
  admin = await adminToken(server);
  writer = await adminToken(server, 'writer');
});
afterAll(async () => {
  await server?.close();
});

function tokenRequest(clientId: string, secret: string, form: Array<[string, string]>) {
  return postForm(server.issuer + '/token', [['grant_type', 'client_credentials'], ...form], { authorization: basic(clientId, secret) });
}
const svcToken = (...form: Array<[string, string]>) => tokenRequest('svc', SECRET, form);
const machineToken = (...form: Array<[string, string]>) => tokenRequest('machine', MACHINE_SECRET, form);

describe('client_credentials limited to the client\'s own scope and resources plus its roles\'', () => {
  it('refuses a scope outside the union with invalid_scope', async () => {
    const response = await svcToken(['scope', 'invoices:read invoices:pay']);
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ error: 'invalid_scope', error_description: 'scope not allowed for this client: invoices:pay' });
  });

  it('refuses a resource outside the union with invalid_target (RFC 8707 §2.2)', async () => {
    const response = await svcToken(['scope', 'invoices:write'], ['resource', 'https://other.example/']);
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ error: 'invalid_target', error_description: 'resource is not allowed for this client: https://other.example/' });
  });

  it('refuses a role\'s scope to a client without the role', async () => {
    const response = await machineToken(['scope', 'invoices:write']);
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ error: 'invalid_scope', error_description: 'scope not allowed for this client: invoices:write' });
  });

  it('grants the role\'s scope and resource beside the client\'s own, with the roles claim when registered', async () => {
    const response = await svcToken(['scope', 'invoices:read invoices:write'], ['resource', OWN], ['resource', BILLING]);
    expect(response.status).toBe(200);
    expect(response.json.scope).toBe('invoices:read invoices:write');
    const claims = decodeJwt(response.json.access_token as string);
    expect(claims.aud).toEqual([OWN, BILLING]);
    expect(claims.roles).toEqual(['billing']);
    // No scope asked for: everything the client may ask for.
    expect((await svcToken()).json.scope).toBe('invoices:read invoices:write');
  });

  it('leaves the roles claim out without roles_claim: true', async () => {
    const response = await tokenRequest('svc-quiet', SECRET, [['scope', 'invoices:write']]);
    expect(response.status).toBe(200);
    expect(decodeJwt(response.json.access_token as string)).not.toHaveProperty('roles');
    expect(decodeJwt((await machineToken()).json.access_token as string)).not.toHaveProperty('roles');
  });

  it('puts the user\'s roles in a user access token of a roles_claim client (code flow, openid-client)', async () => {
    const discover = (id: string, secret: string) =>
      oidc.discovery(new URL(server.issuer), id, secret, oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
    const { tokens } = await openidCodeFlow(await discover('rp', SECRET), server.callback('rp'));
    expect(decodeJwt(tokens.access_token).roles).toEqual(['billing', 'support']);
    // Roles widen client_credentials only: the user's token has the scopes asked for, nothing more.
    expect(tokens.scope).toBe('openid profile email');
    const { tokens: plain } = await openidCodeFlow(await discover('web-app', WEB_SECRET), server.callback('web-app'));
    expect(decodeJwt(plain.access_token)).not.toHaveProperty('roles');
  });
});

describe('/admin/v1/roles refuses', () => {
  it('a token without a roles scope (403), and writes with trusty:clients:read only (403)', async () => {
    expect((await adminFetch(server, undefined, 'GET', '/roles')).status).toBe(401);
    const reader = await adminToken(server, 'reader');
    expect((await adminFetch(server, reader, 'GET', '/roles')).status).toBe(200);
    const response = await adminFetch(server, reader, 'POST', '/roles', { name: 'x' });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect((await adminFetch(server, reader, 'PUT', '/clients/machine/roles', { roles: [] })).status).toBe(403);
  });

  it("a user's roles to trusty:clients:read and trusty:clients:write (403): users are trusty:admin's", async () => {
    // The roles claim is what relying parties authorize users on: setting it is a user operation.
    const reader = await adminToken(server, 'reader');
    for (const token of [reader, writer]) {
      const read = await adminFetch(server, token, 'GET', '/users/alice/roles');
      expect(read.status).toBe(403);
      expect(read.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
      expect((await adminFetch(server, token, 'PUT', '/users/alice/roles', { roles: [] })).status).toBe(403);
    }
    expect((await adminFetch(server, admin, 'GET', '/users/alice/roles')).body.roles).toEqual([
      { name: 'billing', source: 'config' },
      { name: 'support', source: 'config' },
    ]);
  });

  it('a role granting trusty:admin, or its assignment, to trusty:clients:write (403): no escalation', async () => {
    const create = await adminFetch(server, writer, 'POST', '/roles', { name: 'root', scope: 'trusty:admin' });
    expect(create.status).toBe(403);
    expect(create.headers.get('content-type')).toContain('application/problem+json');
    expect(create.body).toMatchObject({
      status: 403,
      detail: 'only an actor holding trusty:admin may create, change, delete, give or take a role granting trusty: scopes',
    });
    expect((await adminFetch(server, admin, 'POST', '/roles', { name: 'root', scope: 'trusty:admin' })).status).toBe(201);
    expect((await adminFetch(server, writer, 'PUT', '/clients/writer/roles', { roles: ['root'] })).status).toBe(403);
    expect((await adminFetch(server, writer, 'PATCH', '/roles/root', { scope: 'harmless' })).status).toBe(403);
    expect((await adminFetch(server, writer, 'DELETE', '/roles/root')).status).toBe(403);
    await adminFetch(server, writer, 'POST', '/roles', { name: 'innocent', scope: 'x' });
    expect((await adminFetch(server, writer, 'PATCH', '/roles/innocent', { scope: 'x trusty:clients:read' })).status).toBe(403);
    // The writer still cannot ask for trusty:admin.
    const escalation = await tokenRequest('writer', ADMIN_SECRET, [['scope', 'trusty:admin']]);
    expect(escalation.json).toMatchObject({ error: 'invalid_scope' });
  });

  it.each([
    ['POST', '/roles', { name: 'bad name' }, 400, 'name'],
    ['POST', '/roles', { name: 'r1', scope: 'a"b' }, 400, 'scope'],
    ['POST', '/roles', { name: 'r1', resources: ['/relative'] }, 400, 'resources.0'],
    ['POST', '/roles', { name: 'r1', colour: 'blue' }, 400, 'colour'],
    ['POST', '/roles', { name: 'billing' }, 409, undefined],
    ['PATCH', '/roles/billing', { scope: 'more' }, 409, undefined],
    ['DELETE', '/roles/billing', undefined, 409, undefined],
    ['GET', '/roles/nope', undefined, 404, undefined],
    ['GET', '/roles/bad%20name', undefined, 400, 'name'],
    ['PUT', '/clients/machine/roles', { roles: ['billing', 'nope'] }, 400, 'roles.1'],
    ['PUT', '/clients/machine/roles', { roles: 'billing' }, 400, 'roles'],
    ['PUT', '/clients/nobody/roles', { roles: [] }, 404, undefined],
    ['PUT', '/users/nobody/roles', { roles: [] }, 404, undefined],
    ['GET', '/clients/nobody/roles', undefined, 404, undefined],
  ])('%s %s %j: %i', async (method, path, body, status, field) => {
    const response = await adminFetch(server, admin, method, path, body);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    if (field !== undefined) expect(response.body).toMatchObject({ status, field });
  });
});

describe('roles through the management API', () => {
  it('a role created and given through the API takes effect at the next token request, no restart', async () => {
    expect((await machineToken(['scope', 'payments:send'])).status).toBe(400);
    const created = await adminFetch(server, writer, 'POST', '/roles', { name: 'payments', scope: 'payments:send', resources: ['https://pay.example/'] });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name: 'payments',
      scope: 'payments:send',
      resources: ['https://pay.example/'],
      source: 'api',
      description: null,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updated_at: created.body.created_at,
    });
    const assigned = await adminFetch(server, writer, 'PUT', '/clients/machine/roles', { roles: ['payments'] });
    expect(assigned.status).toBe(200);
    expect(assigned.body).toEqual({
      roles: [{ name: 'payments', source: 'api' }],
      effective: { scope: 'invoices:read payments:send', resources: ['https://pay.example/'] },
    });
    const granted = await machineToken(['scope', 'payments:send'], ['resource', 'https://pay.example/']);
    expect(granted.status).toBe(200);
    expect(decodeJwt(granted.json.access_token as string).aud).toEqual(['https://pay.example/']);

    // Changed, then taken away: effective at once too.
    expect((await adminFetch(server, writer, 'PATCH', '/roles/payments', { scope: 'payments:refund' })).status).toBe(200);
    expect((await machineToken(['scope', 'payments:send'])).status).toBe(400);
    expect((await machineToken(['scope', 'payments:refund'])).status).toBe(200);
    expect((await adminFetch(server, writer, 'PUT', '/clients/machine/roles', { roles: [] })).body).toEqual({
      roles: [],
      effective: { scope: 'invoices:read', resources: [] },
    });
    expect((await machineToken(['scope', 'payments:refund'])).status).toBe(400);

    const events = await adminFetch(server, admin, 'GET', '/audit?event=role.*&actor=client:writer');
    expect(events.body.items.map((e: { event: string }) => e.event)).toEqual(expect.arrayContaining(['role.created', 'role.assigned', 'role.updated']));
  });

  it('API assignments sit beside config.yaml\'s on a config user, which stay', async () => {
    const alice = await adminFetch(server, admin, 'PUT', '/users/alice/roles', { roles: ['payments'] });
    expect(alice.status).toBe(200);
    expect(alice.body).toEqual({
      roles: [
        { name: 'billing', source: 'config' },
        { name: 'payments', source: 'api' },
        { name: 'support', source: 'config' },
      ],
    });
    expect((await adminFetch(server, admin, 'PUT', '/users/alice/roles', { roles: [] })).body.roles).toHaveLength(2);
  });

  it('a role granting trusty:admin makes its holder an admin, and taking it back ends that at once', async () => {
    await adminFetch(server, admin, 'PUT', '/clients/machine/roles', { roles: ['root'] });
    const token = (await machineToken(['scope', 'trusty:admin'])).json.access_token as string;
    expect((await adminFetch(server, token, 'GET', '/roles?limit=1')).status).toBe(200);
    await adminFetch(server, admin, 'PUT', '/clients/machine/roles', { roles: [] });
    expect((await adminFetch(server, token, 'GET', '/roles?limit=1')).status).toBe(403);
  });

  it('lists roles in pages', async () => {
    const first = await adminFetch(server, admin, 'GET', '/roles?limit=2');
    expect(first.body.items.map((r: { name: string }) => r.name)).toEqual(['billing', 'innocent']);
    const second = await adminFetch(server, admin, 'GET', `/roles?limit=200&cursor=${first.body.next_cursor}`);
    expect(second.body.items.map((r: { name: string }) => r.name)).toEqual(['payments', 'root', 'support']);
    expect(second.body.next_cursor).toBeNull();
  });
});

describe('trusty roles (the CLI, a real process, while the server runs)', () => {
  const cli = (...args: string[]) => runCli(['--config', server.configPath, ...args]);

  it('refuses bad input with exit codes 2 (field), 3 (not found), 4 (conflict)', async () => {
    const bad = await cli('roles', 'create', 'bad name', '--scope', 'x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('name');
    expect((await cli('roles', 'assign', 'billing', '--client', 'nobody')).code).toBe(3);
    expect((await cli('roles', 'delete', 'billing')).code).toBe(4);
    expect((await cli('roles', 'assign', 'billing')).code).toBe(2);
    // --limit is a decimal integer from 1 to 200 (not 0x10, not 1e2).
    const hex = await cli('roles', 'list', '--limit', '0x10');
    expect(hex.code).toBe(2);
    expect(hex.stderr).toContain('--limit');
  }, 90_000);

  it('creates and assigns a role; the next token request has its scope', async () => {
    const created = await cli('--json', 'roles', 'create', 'reports', '--scope', 'reports:read reports:export', '--description', 'Reporting agents');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'reports', scope: 'reports:read reports:export', source: 'api', description: 'Reporting agents' });
    const assigned = await cli('--json', 'roles', 'assign', 'reports', '--client', 'machine');
    expect(assigned.code).toBe(0);
    expect(JSON.parse(assigned.stdout)).toMatchObject({ roles: [{ name: 'reports', source: 'api' }] });
    const response = await machineToken(['scope', 'reports:export']);
    expect(response.status).toBe(200);
    expect(response.json.scope).toBe('reports:export');

    const events = await adminFetch(server, admin, 'GET', '/audit?event=role.assigned&client_id=machine&limit=1');
    expect(events.body.items[0]).toMatchObject({ event: 'role.assigned', actor: expect.stringMatching(/^cli:/), details: { before: { roles: [] }, after: { roles: ['reports'] } } });

    expect((await cli('roles', 'unassign', 'reports', '--client', 'machine')).code).toBe(0);
    expect((await machineToken(['scope', 'reports:export'])).status).toBe(400);
    const deleted = await cli('--json', 'roles', 'delete', 'reports');
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ name: 'reports', deleted: true });
  }, 60_000);
});

describe('config.yaml owns its roles across restarts', () => {
  it('removing a role from the file and restarting removes it (and its grant); API roles survive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trusty-roles-'));
    const port = await freePort();
    const withRole = {
      clients: [adminClientEntry(), service('svc', { roles: ['temp'] })],
      settings: { roles: [{ name: 'temp', scope: 'temp:use' }] },
    };
    let first: TestServer | undefined = await startServerAt(port, dir, { extra: withRole });
    try {
      const token = () => postForm(first!.issuer + '/token', { grant_type: 'client_credentials', scope: 'temp:use' }, { authorization: basic('svc', SECRET) });
      expect((await token()).status).toBe(200);
      expect((await adminFetch(first, await adminToken(first), 'POST', '/roles', { name: 'kept', scope: 'kept:use' })).status).toBe(201);
      await first.close();
      first = await startServerAt(port, dir, { extra: { clients: [adminClientEntry(), service('svc')] } });
      const refused = await token();
      expect(refused.status).toBe(400);
      expect(refused.json).toEqual({ error: 'invalid_scope', error_description: 'scope not allowed for this client: temp:use' });
      const roles = await adminFetch(first, await adminToken(first), 'GET', '/roles');
      expect(roles.body.items.map((r: { name: string }) => r.name)).toEqual(['kept']);
    } finally {
      await first?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
