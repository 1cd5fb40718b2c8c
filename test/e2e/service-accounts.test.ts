import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { importJWK, SignJWT, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { adminClientEntry, adminFetch, adminToken } from '../support/admin.js';
import { runCli } from '../support/cli.js';
import { ASSERTION_TYPE } from '../support/fapi.js';
import { basic, postForm } from '../support/flow.js';
import { startServer, type TestServer } from '../support/server.js';

/**
 * Service accounts (docs/clients.md): made in one call through the API or the CLI with a
 * generated ES256 key pair (or secret) returned once, used at once for a client_credentials token,
 * audited without the private key, stopped by disabling or by their expiry date.
 */
const GATEWAY_SECRET = 'gateway-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
let server: TestServer;
let admin: string;
let writer: string;

const api = (method: string, path: string, body?: unknown, as = writer) => adminFetch(server, as, method, path, body);
const introspect = (value: string) => postForm(server.issuer + '/introspect', { token: value }, { authorization: basic('gateway', GATEWAY_SECRET) });
const cli = (...args: string[]) => runCli(['--config', server.configPath, ...args]);

/** A client_credentials token request authenticated with private_key_jwt (RFC 7523 §2.2), aud = the issuer. */
async function tokenWithKey(clientId: string, privateJwk: JWK, scope?: string) {
  const key = await importJWK(privateJwk, 'ES256');
  const now = server.clock.now();
  const assertion = await new SignJWT({ iss: clientId, sub: clientId, aud: server.issuer, jti: randomUUID(), iat: now, exp: now + 60 })
    .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid! })
    .sign(key);
  return postForm(server.issuer + '/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, ...(scope ? { scope } : {}) });
}

/** Rows of the audit log about a client, read with SQLite directly, after the buffer is written. */
async function auditRows(clientId: string): Promise<Array<{ event: string; actor: string | null; details: string | null }>> {
  await server.trusty.deps.control.flush();
  const db = new Database(server.dbPath, { readonly: true });
  try {
    return db.prepare('SELECT event, actor, details FROM audit_log WHERE client_id = ? ORDER BY id').all(clientId) as Array<{ event: string; actor: string | null; details: string | null }>;
  } finally {
    db.close();
  }
}

/** Whether `text` appears anywhere in the database files (the main file and its WAL). */
function storedAnywhere(text: string): boolean {
  return [server.dbPath, `${server.dbPath}-wal`].some((path) => existsSync(path) && readFileSync(path).includes(Buffer.from(text)));
}

beforeAll(async () => {
  server = await startServer({
    clients: (issuer) => [
      adminClientEntry(),
      adminClientEntry('trusty:clients:write', 'writer'),
      { client_id: 'gateway', client_secret: GATEWAY_SECRET, grant_types: [], resource_server: true, introspection_audiences: [issuer] },
    ],
  });
});

afterAll(async () => {
  await server?.close();
});

// Fresh admin tokens for each test: the expiry test moves the clock past their lifetime.
beforeEach(async () => {
  [admin, writer] = await Promise.all([adminToken(server), adminToken(server, 'writer')]);
});

describe('POST /admin/v1/service-accounts refuses', () => {
  it.each([
    [{ client_id: 'no-scope' }, 'scope'],
    [{ scope: 'invoices:read' }, 'client_id'],
    [{ client_id: 'bad auth', scope: 'invoices:read' }, 'client_id'],
    [{ client_id: 'x', scope: 'invoices:read', auth: 'password' }, 'auth'],
    [{ client_id: 'x', scope: 'invoices:read', expires_at: '2020-01-01T00:00:00Z' }, 'expires_at'],
    [{ client_id: 'x', scope: 'invoices:read', resources: ['not a url'] }, 'resources.0'],
    [{ client_id: 'x', scope: 'invoices:read', owner: 'o'.repeat(201) }, 'owner'],
    [{ client_id: 'x', scope: 'invoices:read', private_jwk: {} }, 'private_jwk'],
  ])('bad input %j: 400 problem naming %s', async (body, field) => {
    const response = await api('POST', '/service-accounts', body);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status: 400, field });
  });

  it('a trusty: scope asked by trusty:clients:write: 403, nothing created', async () => {
    const response = await api('POST', '/service-accounts', { client_id: 'root-agent', scope: 'trusty:admin' });
    expect(response.status).toBe(403);
    expect((await api('GET', '/clients/root-agent', undefined, admin)).status).toBe(404);
  });

  it('no token: 401', async () => {
    const response = await adminFetch(server, undefined, 'POST', '/service-accounts', { client_id: 'x', scope: 'a' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });
});

describe('a service account made through the API', () => {
  it('gets a token with the returned private JWK, is audited without it, and the key is stored nowhere', async () => {
    const created = await api('POST', '/service-accounts', { client_id: 'billing-agent', scope: 'invoices:read', owner: 'team-billing', description: 'pays invoices' });
    expect(created.status).toBe(201);
    const account = created.body;
    expect(account).toMatchObject({
      client_id: 'billing-agent',
      token_endpoint_auth_method: 'private_key_jwt',
      scope: 'invoices:read',
      owner: 'team-billing',
      description: 'pays invoices',
      expires_at: null,
      issuer: server.issuer,
      token_endpoint: `${server.issuer}/token`,
      assertion_audience: server.issuer,
    });
    expect(account.private_jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(account.private_jwk.d).toEqual(expect.any(String));
    expect(account.client_secret).toBeUndefined();

    const issued = await tokenWithKey('billing-agent', account.private_jwk, 'invoices:read');
    expect(issued.status).toBe(200);
    expect(issued.json).toMatchObject({ token_type: 'Bearer', scope: 'invoices:read' });

    const read = await api('GET', '/clients/billing-agent', undefined, admin);
    expect(read.body).toMatchObject({ kind: 'service_account', source: 'api', grant_types: ['client_credentials'], owner: 'team-billing' });
    expect(read.body.jwks.keys[0].d).toBeUndefined();
    const listed = await api('GET', '/service-accounts', undefined, admin);
    expect(listed.body.items.map((c: { client_id: string }) => c.client_id)).toEqual(['billing-agent']);

    const audit = await auditRows('billing-agent');
    expect(audit.map((row) => [row.event, row.actor])).toEqual([
      ['service_account.created', 'client:writer'],
      ['token.issued', null],
    ]);
    expect(JSON.parse(audit[0]!.details!).after).toMatchObject({ client_id: 'billing-agent', kind: 'service_account' });
    expect(audit[0]!.details).not.toContain(account.private_jwk.d);
    expect(storedAnywhere(account.private_jwk.d)).toBe(false);
  });

  it('with auth client_secret: a generated secret, shown once, works with openid-client', async () => {
    const created = await api('POST', '/service-accounts', { name: 'report-bot', scope: 'reports:read', auth: 'client_secret' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ client_id: 'report-bot', token_endpoint_auth_method: 'client_secret_basic' });
    expect(created.body.private_jwk).toBeUndefined();
    const config = await oidc.discovery(new URL(server.issuer), 'report-bot', undefined, oidc.ClientSecretBasic(created.body.client_secret), { execute: [oidc.allowInsecureRequests] });
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'reports:read' });
    expect(tokens.access_token).toEqual(expect.any(String));
    expect((await api('GET', '/clients/report-bot', undefined, admin)).body.client_name).toBe('report-bot');
  });

  it('disabled: its next token request is refused (invalid_client) and its earlier token introspects inactive', async () => {
    const { body: account } = await api('POST', '/service-accounts', { client_id: 'retiring-agent', scope: 'invoices:read' });
    const earlier = (await tokenWithKey('retiring-agent', account.private_jwk)).json.access_token as string;
    expect((await introspect(earlier)).json).toMatchObject({ active: true, client_id: 'retiring-agent' });
    expect((await api('POST', '/clients/retiring-agent/disable')).status).toBe(200);
    const refused = await tokenWithKey('retiring-agent', account.private_jwk);
    expect(refused.status).toBe(401);
    expect(refused.json.error).toBe('invalid_client');
    expect((await introspect(earlier)).json).toEqual({ active: false });
    expect((await auditRows('retiring-agent')).map((row) => row.event)).toContain('client.disabled');
  });
});

// Each run starts node with tsx: seconds on a busy machine.
describe('trusty service-account create, run as a process while the server runs', { timeout: 120_000 }, () => {
  it('prints the account as JSON; the server accepts its first token at once', async () => {
    const run = await cli('--json', 'service-account', 'create', 'cli-agent', '--scope', 'invoices:read', '--owner', 'ops', '--expires', '2999-01-01');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const account = JSON.parse(run.stdout);
    expect(account).toMatchObject({ client_id: 'cli-agent', scope: 'invoices:read', owner: 'ops', expires_at: '2999-01-01T00:00:00.000Z', token_endpoint: `${server.issuer}/token` });
    const issued = await tokenWithKey('cli-agent', account.private_jwk);
    expect(issued.status).toBe(200);
    const audit = await auditRows('cli-agent');
    expect(audit[0]).toMatchObject({ event: 'service_account.created', actor: expect.stringMatching(/^cli:/) });
  });

  it('prints, for a human, the credential with a shown-once warning and a first-token snippet', async () => {
    const keyed = await cli('service-account', 'create', 'human-agent', '--scope', 'invoices:read');
    expect(keyed.code).toBe(0);
    expect(keyed.stdout).toContain('client_id:       human-agent');
    expect(keyed.stdout).toContain('WARNING: the private key below is shown this once');
    expect(keyed.stdout).toContain('client.PrivateKeyJwt');
    expect(keyed.stdout).toContain(`${server.issuer}`);
    const secret = await cli('service-account', 'create', 'curl-agent', '--scope', 'invoices:read', '--secret');
    expect(secret.code).toBe(0);
    expect(secret.stdout).toContain('WARNING: the client_secret below is shown this once');
    expect(secret.stdout).toContain(`-d grant_type=client_credentials -d scope='invoices:read' ${server.issuer}/token`);
    const printed = /client_secret:\s+(\S+)/.exec(secret.stdout)![1]!;
    const issued = await postForm(server.issuer + '/token', { grant_type: 'client_credentials' }, { authorization: basic('curl-agent', printed) });
    expect(issued.status).toBe(200);
  });

  it('--key-out: the file is not left behind when the command fails before or while creating the account', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trusty-key-out-'));
    try {
      const badConfig = await runCli(['--config', join(dir, 'missing.yaml'), 'service-account', 'create', 'no-config-agent', '--scope', 'a', '--key-out', join(dir, 'a.jwk.json')]);
      expect(badConfig.code).not.toBe(0);
      expect(existsSync(join(dir, 'a.jwk.json'))).toBe(false);
      const taken = await cli('service-account', 'create', 'cli-agent', '--scope', 'a', '--key-out', join(dir, 'b.jwk.json'));
      expect(taken.code).toBe(4);
      expect(existsSync(join(dir, 'b.jwk.json'))).toBe(false);
      const saved = await cli('--json', 'service-account', 'create', 'file-agent', '--scope', 'invoices:read', '--key-out', join(dir, 'c.jwk.json'));
      expect(saved.code).toBe(0);
      expect(JSON.parse(saved.stdout)).toMatchObject({ client_id: 'file-agent', credential_file: join(dir, 'c.jwk.json') });
      expect(statSync(join(dir, 'c.jwk.json')).mode & 0o777).toBe(0o600);
      const jwk = JSON.parse(readFileSync(join(dir, 'c.jwk.json'), 'utf8'));
      expect((await tokenWithKey('file-agent', jwk)).status).toBe(200);
      // An existing file is never overwritten: exit 2, and no account is made.
      const exists = await cli('service-account', 'create', 'clash-agent', '--scope', 'a', '--key-out', join(dir, 'c.jwk.json'));
      expect(exists.code).toBe(2);
      expect((await api('GET', '/clients/clash-agent', undefined, admin)).status).toBe(404);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad input with exit code 2, an existing name with 4', async () => {
    const badDate = await cli('service-account', 'create', 'late-agent', '--scope', 'a', '--expires', 'next week');
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('--expires must be a date');
    const past = await cli('service-account', 'create', 'late-agent', '--scope', 'a', '--expires', '2001-01-01');
    expect(past.code).toBe(2);
    expect(past.stderr).toBe('trusty: expires_at: must be in the future\n');
    const again = await cli('service-account', 'create', 'cli-agent', '--scope', 'a');
    expect(again.code).toBe(4);
    expect(again.stderr).toBe('trusty: client cli-agent already exists\n');
  });
});

describe('expiry', () => {
  it('after expires_at the account no longer authenticates and its tokens introspect inactive', async () => {
    const expiresAt = new Date((server.clock.now() + 120) * 1000).toISOString();
    const { body: account } = await api('POST', '/service-accounts', { client_id: 'temp-agent', scope: 'invoices:read', expires_at: expiresAt });
    expect(account.expires_at).toBe(expiresAt);
    const earlier = (await tokenWithKey('temp-agent', account.private_jwk)).json.access_token as string;
    expect((await introspect(earlier)).json.active).toBe(true);
    server.clock.advance(121);
    // The access token lives 600 s: inactive because its client expired, not because it did.
    expect((await introspect(earlier)).json).toEqual({ active: false });
    const refused = await tokenWithKey('temp-agent', account.private_jwk);
    expect(refused.status).toBe(401);
    expect(refused.json.error).toBe('invalid_client');
    expect((await api('GET', '/service-accounts?client_id_prefix=temp-', undefined, admin)).body.items[0]).toMatchObject({ client_id: 'temp-agent', enabled: true, expires_at: expiresAt });
  });

  it('given a later expiry, or none, once expired: it works again, but its tokens from before stay dead', async () => {
    const expiresAt = new Date((server.clock.now() + 120) * 1000).toISOString();
    const { body: account } = await api('POST', '/service-accounts', { client_id: 'revived-agent', scope: 'invoices:read', expires_at: expiresAt });
    const earlier = (await tokenWithKey('revived-agent', account.private_jwk)).json.access_token as string;
    server.clock.advance(121);
    expect((await introspect(earlier)).json).toEqual({ active: false });
    expect((await api('PATCH', '/clients/revived-agent', { expires_at: null }, admin)).status).toBe(200);
    // The token's exp (600 s) is still ahead: only its iat, before the expiry, keeps it dead.
    expect((await introspect(earlier)).json).toEqual({ active: false });
    const fresh = (await tokenWithKey('revived-agent', account.private_jwk)).json.access_token as string;
    expect((await introspect(fresh)).json).toMatchObject({ active: true, client_id: 'revived-agent' });
  });
});
