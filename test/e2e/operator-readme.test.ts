import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postForm } from '../support/flow.js';
import { runCli } from '../support/cli.js';
import { freePort, startServerAt, type TestServer } from '../support/server.js';

/**
 * The README's "Operate" section, as an operator runs it: the CLI as a real process on the
 * database of a running server, the first token with the snippet it prints, the audit trail,
 * a key rotation no relying party notices, and a client removed by the API-less way and from the file.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const GATEWAY_SECRET = 'gateway-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const gateway = (issuer: string) => ({ client_id: 'gateway', client_secret: GATEWAY_SECRET, grant_types: [], resource_server: true, introspection_audiences: [issuer] });
const LEDGER_SECRET = 'ledger-bot-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
/** A service declared in config.yaml, removed from it before the second start. */
const LEDGER_BOT = { client_id: 'ledger-bot', client_secret: LEDGER_SECRET, grant_types: ['client_credentials'], scope: 'ledger:read' };
const asLedgerBot = () => ({ authorization: basic('ledger-bot', LEDGER_SECRET) });

let dir: string;
let port: number;
let server: TestServer;
const cli = (...args: string[]) => runCli(['--config', server.configPath, ...args]);
const introspect = (token: string) => postForm(server.issuer + '/introspect', { token }, { authorization: basic('gateway', GATEWAY_SECRET) });
const jwks = async () => (await (await fetch(server.issuer + '/.well-known/jwks.json')).json()) as JSONWebKeySet;

/** Runs the snippet `service-account create` printed, from the checkout (where openid-client is installed). */
function runSnippet(snippet: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = join(ROOT, `test/.first-token-${process.pid}-${Date.now()}.mjs`);
  // The snippet reads the key file relative to where it runs.
  writeFileSync(file, snippet);
  return new Promise((done) => {
    const child = spawn(process.execPath, [file], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => {
      rmSync(file, { force: true });
      done({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trusty-operator-'));
  port = await freePort();
  server = await startServerAt(port, dir, { extra: { clients: (issuer) => [gateway(issuer), LEDGER_BOT] } });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('README, Operate: from nothing to a rotated key and a removed client', () => {
  let billingToken: string;

  it('service-account create --key-out: the key file (0600), then the printed snippet gets a token', async () => {
    const keyFile = join(dir, 'billing-agent.jwk.json');
    const created = await runCli(['--config', server.configPath, 'service-account', 'create', 'billing-agent', '--scope', 'invoices:read', '--key-out', keyFile]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`The private key is in ${keyFile} (mode 0600)`);
    expect(created.stdout).not.toContain('"d"');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(keyFile, 'utf8'))).toMatchObject({ kty: 'EC', crv: 'P-256', d: expect.any(String) });
    const snippet = created.stdout
      .split('\n')
      .filter((line) => line.startsWith('  '))
      .map((line) => line.slice(2))
      .join('\n');
    const run = await runSnippet(snippet, dir);
    expect(run.stderr).toBe('');
    billingToken = run.stdout.trim();
    expect((await introspect(billingToken)).json).toMatchObject({ active: true, client_id: 'billing-agent', scope: 'invoices:read' });
  }, 120_000);

  it('audit tail shows the creation by the CLI and the token', async () => {
    const tail = await cli('audit', 'tail', '-n', '5');
    expect(tail.code).toBe(0);
    expect(tail.stdout).toMatch(/service_account\.created\s+client=billing-agent\s+user=-\s+actor=cli:\S+/);
    expect(tail.stdout).toMatch(/token\.issued\s+client=billing-agent\s+user=-\s+actor=-\s+ip=127\.0\.0\.1/);
  }, 60_000);

  it('keys rotate: a relying party with the JWKS it fetched before verifies tokens signed after, and old tokens stay valid', async () => {
    const before = await jwks();
    // Within 300 s of the first start the successor may be missing from JWKS caches: refused, unless forced.
    const refused = await cli('keys', 'rotate', '--alg', 'ES256');
    expect(refused.code).toBe(4);
    const rotated = await cli('--json', 'keys', 'rotate', '--alg', 'ES256', '--force');
    expect(rotated.code).toBe(0);
    const after = await postForm(server.issuer + '/token', { grant_type: 'client_credentials' }, { authorization: basic('machine', 'machine-secret-0123456789-abcdefghijklmnopqrstuvwxyz') });
    const fresh = String(after.json.access_token);
    const options = { issuer: server.issuer, typ: 'at+jwt' };
    await expect(jwtVerify(fresh, createLocalJWKSet(before), options)).resolves.toBeDefined();
    await expect(jwtVerify(billingToken, createLocalJWKSet(await jwks()), options)).resolves.toBeDefined();
    const list = JSON.parse((await cli('--json', 'keys', 'list')).stdout) as { items?: Array<{ alg: string; state: string }> } | Array<{ alg: string; state: string }>;
    const keys = Array.isArray(list) ? list : (list.items ?? []);
    expect(keys.filter((k) => k.alg === 'ES256').map((k) => k.state).sort()).toEqual(['active', 'prepublished', 'retired']);
  }, 60_000);

  it('clients delete: the client is gone and its earlier token introspects inactive', async () => {
    const deleted = await cli('clients', 'delete', 'billing-agent');
    expect(deleted.code).toBe(0);
    expect((await introspect(billingToken)).json).toEqual({ active: false });
    const gone = await cli('clients', 'get', 'billing-agent');
    expect(gone.code).toBe(3);
    expect(gone.stderr).toBe('trusty: client billing-agent was not found\n');
  }, 60_000);

  it('a config client removed from config.yaml is disabled at the next start', async () => {
    const issued = await postForm(server.issuer + '/token', { grant_type: 'client_credentials' }, asLedgerBot());
    expect(issued.status).toBe(200);
    const earlier = String(issued.json.access_token);
    await server.close();
    server = await startServerAt(port, dir, { extra: { clients: (issuer) => [gateway(issuer)] } });
    expect(readFileSync(server.configPath, 'utf8')).not.toContain('ledger-bot');
    const refused = await postForm(server.issuer + '/token', { grant_type: 'client_credentials' }, asLedgerBot());
    expect(refused.status).toBe(401);
    expect(refused.json.error).toBe('invalid_client');
    expect((await introspect(earlier)).json).toEqual({ active: false });
    const shown = await cli('--json', 'clients', 'get', 'ledger-bot');
    expect(JSON.parse(shown.stdout)).toMatchObject({ client_id: 'ledger-bot', source: 'config', enabled: false });
  }, 60_000);
});
