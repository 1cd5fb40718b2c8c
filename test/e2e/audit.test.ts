import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILED_AUTH_PER_KEY } from '../../src/application/services/failed-client-auth.js';
import { adminClientEntry, adminFetch, adminToken } from '../support/admin.js';
import { runCli, spawnCli } from '../support/cli.js';
import { basic, postForm } from '../support/flow.js';
import { startServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

const MACHINE_SECRET = 'machine-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
let server: TestServer;
let admin: string;

interface Entry {
  id: number;
  at: string;
  event: string;
  client_id: string | null;
  user_id: string | null;
  actor: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown> | null;
}

async function machineToken(userAgent: string): Promise<string> {
  const response = await postForm(server.issuer + '/token', { grant_type: 'client_credentials' }, { authorization: basic('machine', MACHINE_SECRET), 'user-agent': userAgent });
  expect(response.status).toBe(200);
  return response.json.access_token as string;
}

async function audit(query: string, token = admin): Promise<Entry[]> {
  const response = await adminFetch(server, token, 'GET', `/audit${query}`);
  expect(response.status).toBe(200);
  return response.body.items as Entry[];
}

const cli = (...args: string[]) => runCli(['--config', server.configPath, ...args]);

beforeAll(async () => {
  server = await startServer({
    clients: [adminClientEntry(), adminClientEntry('trusty:audit:read', 'auditor'), adminClientEntry('trusty:clients:read', 'reader')],
    // Hundreds of refused client authentications from one address: what the audit bound is tested
    // with; the per-address budget of failures (test/e2e/rate-limits.test.ts) would answer 429 first.
    settings: { rate_limits: { per_ip: { failed_client_auth: 100_000 } } },
  });
  admin = await adminToken(server);
});

afterAll(async () => {
  await server?.close();
});

describe('GET /admin/v1/audit refuses', () => {
  it('no token: 401 with a Bearer challenge', async () => {
    const response = await adminFetch(server, undefined, 'GET', '/audit');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('a token without trusty:audit:read: 403 insufficient_scope', async () => {
    const response = await adminFetch(server, await adminToken(server, 'reader'), 'GET', '/audit');
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it.each([
    ['?since=yesterday', 'since'],
    ['?until=2026-13-01T00:00:00Z', 'until'],
    ['?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', 'until'],
    ['?event=token.*.*', 'event'],
    ['?limit=0', 'limit'],
    ['?limit=201', 'limit'],
    ['?limit=ten', 'limit'],
    ['?cursor=bm90LWEtY3Vyc29y', 'cursor'],
    [`?client_id=${'x'.repeat(257)}`, 'client_id'],
  ])('bad input %s: 400 problem naming %s', async (query, field) => {
    const response = await adminFetch(server, admin, 'GET', `/audit${query}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status: 400, field });
  });

  it('an unknown parameter: 400 problem naming it', async () => {
    const response = await adminFetch(server, admin, 'GET', '/audit?colour=blue');
    expect(response.status).toBe(400);
    expect(response.body.detail).toContain('colour');
  });
});

describe('GET /admin/v1/audit', () => {
  it('shows token events with IP and user agent, newest first, filtered and paged; trusty:audit:read suffices', async () => {
    await machineToken('billing-agent/1.0');
    await machineToken('billing-agent/2.0');
    const items = await audit('?event=token.issued&client_id=machine', await adminToken(server, 'auditor'));
    expect(items.slice(0, 2)).toMatchObject([
      { event: 'token.issued', client_id: 'machine', user_id: null, actor: null, ip: '127.0.0.1', user_agent: 'billing-agent/2.0', details: { grant_type: 'client_credentials' } },
      { event: 'token.issued', client_id: 'machine', user_agent: 'billing-agent/1.0' },
    ]);
    expect(Date.parse(items[0]!.at)).toBeGreaterThan(Date.now() - 60_000);

    const first = await adminFetch(server, admin, 'GET', '/audit?event=token.*&client_id=machine&limit=1');
    expect(first.body.items).toHaveLength(1);
    expect(first.body.items[0].id).toBe(items[0]!.id);
    const second = await adminFetch(server, admin, 'GET', `/audit?event=token.*&client_id=machine&limit=1&cursor=${first.body.next_cursor}`);
    expect(second.body.items[0].id).toBe(items[1]!.id);
    expect(await audit(`?client_id=machine&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
  });

  it('records the user agent of a revocation', async () => {
    const token = await machineToken('revoker/1.0');
    const response = await postForm(server.issuer + '/revoke', { token }, { authorization: basic('machine', MACHINE_SECRET), 'user-agent': 'revoker/1.0' });
    expect(response.status).toBe(200);
    expect((await audit('?event=token.revoked&client_id=machine'))[0]).toMatchObject({ ip: '127.0.0.1', user_agent: 'revoker/1.0' });
    // token.* is token.issued and token.revoked, merged newest first.
    expect((await audit('?event=token.*&client_id=machine&limit=2')).map((e) => [e.event, e.user_agent])).toEqual([
      ['token.revoked', 'revoker/1.0'],
      ['token.issued', 'revoker/1.0'],
    ]);
  });
});

describe('failed client authentication', () => {
  it('is recorded at /token with the method, reason, IP and user agent, never the secret, and bounded', async () => {
    // 100 failures within one minute (the bound's window): wait if the minute is about to end.
    if (Date.now() % 60_000 > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - (Date.now() % 60_000) + 100));
    for (let i = 0; i < 100; i++) {
      const response = await postForm(server.issuer + '/token', { grant_type: 'client_credentials' }, { authorization: basic('machine', `wrong-secret-${i}`), 'user-agent': 'attacker/6.6' });
      expect(response.status).toBe(401);
    }
    const full = await audit('?event=client.auth_failed&client_id=machine&limit=200');
    expect(full).toHaveLength(FAILED_AUTH_PER_KEY);
    expect(full[0]).toMatchObject({
      client_id: 'machine',
      ip: '127.0.0.1',
      user_agent: 'attacker/6.6',
      details: { method: 'client_secret_basic', reason: 'client authentication failed', endpoint: '/token' },
    });
    expect(JSON.stringify(full)).not.toContain('wrong-secret');
    // The minute ends (the server writes the summary then): the other 90 are one event.
    server.trusty.deps.failedClientAuth.flush();
    const all = await audit('?event=client.auth_failed&client_id=machine&limit=200');
    expect(all).toHaveLength(FAILED_AUTH_PER_KEY + 1);
    expect(all[0]).toMatchObject({ client_id: 'machine', ip: '127.0.0.1', details: { suppressed: 100 - FAILED_AUTH_PER_KEY } });
  });

  it('is recorded at /par, /introspect and /revoke, by client_id or, when none is named, by IP', async () => {
    const ua = { 'user-agent': 'prober/1.0' };
    expect((await postForm(server.issuer + '/par', { response_type: 'code', client_id: 'web-app', client_secret: 'guess' }, ua)).status).toBe(401);
    expect((await postForm(server.issuer + '/introspect', { token: 'x' }, { ...ua, authorization: basic('nobody', 'guess') })).status).toBe(401);
    expect((await postForm(server.issuer + '/revoke', { token: 'x' }, ua)).status).toBe(401);
    const assertion = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"iss":"machine"}').toString('base64url')}.`;
    const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
    expect((await postForm(server.issuer + '/introspect', { token: 'x', client_assertion: assertion, client_assertion_type: assertionType }, ua)).status).toBe(401);
    const items = await audit('?event=client.auth_failed&limit=200');
    const by = (endpoint: string) => items.filter((e) => e.details?.endpoint === endpoint && e.user_agent === 'prober/1.0');
    expect(by('/par')).toMatchObject([{ client_id: 'web-app', details: { method: 'client_secret_post', reason: 'the client must authenticate with client_secret_basic' } }]);
    expect(by('/revoke')).toMatchObject([{ client_id: null, ip: '127.0.0.1', details: { method: 'none', reason: 'client authentication is required (client_id missing)' } }]);
    expect(by('/introspect')).toMatchObject([
      { client_id: 'machine', details: { method: 'private_key_jwt' } },
      { client_id: 'nobody', details: { method: 'client_secret_basic', reason: 'client authentication failed' } },
    ]);
    expect(JSON.stringify(items)).not.toContain(assertion);
  });

  it('cuts the unverified client_id to 64 characters (saying so) and the user agent to 128', async () => {
    const claimed = `long-${'c'.repeat(300)}`;
    const response = await postForm(server.issuer + '/token', { grant_type: 'client_credentials' }, { authorization: basic(claimed, 'guess'), 'user-agent': `scanner/${'u'.repeat(1000)}` });
    expect(response.status).toBe(401);
    const items = await audit(`?event=client.auth_failed&client_id=${claimed.slice(0, 64)}`);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      client_id: claimed.slice(0, 64),
      user_agent: `scanner/${'u'.repeat(120)}`,
      details: { method: 'client_secret_basic', reason: 'client authentication failed', endpoint: '/token', client_id_truncated: true },
    });
  });
});

describe('management changes', () => {
  it('are shown with the actor, IP, user agent and before/after, and no secret, password or private key', async () => {
    const secret = 'audited-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
    const created = await adminFetch(server, admin, 'POST', '/clients', { client_id: 'audited-app', client_secret: secret, grant_types: ['client_credentials'], scope: 'invoices:read' });
    expect(created.status).toBe(201);
    expect((await adminFetch(server, admin, 'PATCH', '/clients/audited-app', { scope: 'invoices:read invoices:write' })).status).toBe(200);
    const rotated = await adminFetch(server, admin, 'POST', '/clients/audited-app/secret', {});
    expect(rotated.status).toBe(200);
    const account = await adminFetch(server, admin, 'POST', '/service-accounts', { name: 'audited-agent', scope: 'invoices:read' });
    expect(account.status).toBe(201);
    const password = 'audited-password-0123456789';
    const user = await adminFetch(server, admin, 'POST', '/users', { username: 'audited-user', password });
    expect(user.status).toBe(201);
    const reset = await adminFetch(server, admin, 'POST', `/users/${user.body.id}/password`, {});
    expect(reset.status).toBe(200);

    const items = await audit('?actor=client:admin-bot&limit=200');
    const events = items.map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['client.created', 'client.updated', 'client.secret_rotated', 'user.created', 'user.password_reset']));
    for (const item of items) expect(item).toMatchObject({ actor: 'client:admin-bot', ip: '127.0.0.1', user_agent: expect.any(String) });
    expect(items.find((e) => e.event === 'client.updated')).toMatchObject({
      client_id: 'audited-app',
      details: { before: { scope: 'invoices:read' }, after: { scope: 'invoices:read invoices:write' } },
    });
    expect(items.find((e) => e.client_id === 'audited-agent')).toMatchObject({ details: { after: { client_id: 'audited-agent' } } });
    const text = JSON.stringify(items);
    for (const hidden of [secret, rotated.body.client_secret, account.body.private_jwk.d, password, reset.body.password]) {
      expect(typeof hidden).toBe('string');
      expect(text).not.toContain(hidden);
    }
    expect(await audit('?actor=client:admin-bot&event=client.*&client_id=audited-app')).toHaveLength(3);
  });

  it('made with the CLI are shown with a cli: actor', async () => {
    expect((await cli('roles', 'create', 'audited-role', '--scope', 'invoices:read')).code).toBe(0);
    expect((await audit('?event=role.created'))[0]).toMatchObject({ actor: expect.stringMatching(/^cli:/), details: { after: { name: 'audited-role' } } });
  }, 30_000);
});

describe('trusty audit (the CLI, as a process, while the server runs)', () => {
  it('refuses bad input with exit code 2', async () => {
    expect(await cli('audit', 'export')).toMatchObject({ code: 2 });
    expect(await cli('audit', 'tail', '-n', '0')).toMatchObject({ code: 2, stderr: expect.stringContaining('-n must be') });
    const since = await cli('audit', 'export', '--since', 'yesterday');
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('since:');
  });

  it('tail prints one line per event: time, event, client, user, actor, ip', async () => {
    await machineToken('tail/1.0');
    const result = await cli('audit', 'tail', '-n', '2', '--event', 'token.issued', '--client', 'machine');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}token\.issued +client=machine {2}user=- {2}actor=- {2}ip=127\.0\.0\.1$/);
  });

  it('tail -f prints an event that happens after it started, and stops with exit 0 on SIGINT', async () => {
    await machineToken('before/1.0');
    const child = spawnCli(['--config', server.configPath, '--json', 'audit', 'tail', '-f', '-n', '1', '--client', 'machine']);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const lines = () => stdout.split('\n').filter((line) => line !== '');
      await eventually(() => (lines().length >= 1 ? true : undefined), 'the first line of tail -f', { timeoutMs: 20_000, intervalMs: 50 });
      expect(JSON.parse(lines()[0]!)).toMatchObject({ event: 'token.issued', user_agent: 'before/1.0' });
      await machineToken('after/1.0');
      await eventually(() => (lines().length >= 2 ? true : undefined), 'the event written after tail -f started', { timeoutMs: 5000, intervalMs: 50 });
      expect(JSON.parse(lines()[1]!)).toMatchObject({ event: 'token.issued', client_id: 'machine', user_agent: 'after/1.0' });
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(lines()).toHaveLength(2);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);

  it('tail -f takes --user by username; on SIGINT it exits at once even while its reader is not reading', async () => {
    const created = await adminFetch(server, admin, 'POST', '/users', { username: 'chatty', password: 'chatty-password' });
    expect(created.status).toBe(201);
    // 100 events of about 14 kB (claims before and after): 1.4 MB, several times what the socket
    // pair between the processes and both sides' buffers hold (about 350 kB on Linux by default).
    for (let i = 0; i < 100; i++) {
      expect((await adminFetch(server, admin, 'PATCH', `/users/${created.body.id}`, { claims: { note: `${i}:${'x'.repeat(7000)}` } })).status).toBe(200);
    }
    // The server writes its events up to 25 ms later.
    for (let tries = 0; (await audit(`?user_id=${created.body.id}&limit=200`)).length < 101; tries++) {
      expect(tries).toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const child = spawnCli(['--config', server.configPath, '--json', 'audit', 'tail', '-f', '-n', '200', '--user', 'chatty']);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      // Nothing is read until it exits: its stdout fills up and its writes wait. (A 'readable'
      // listener stays on, or Node would drain the stream, unread, once the process exits.)
      child.stdout.on('readable', () => undefined);
      await once(child.stdout, 'readable');
      await new Promise((resolve) => setTimeout(resolve, 500));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      // What it wrote before: whole events about chatty, not all 101 (the last line may be cut).
      let stdout = '';
      for await (const chunk of child.stdout) stdout += String(chunk);
      const lines = stdout.split('\n').slice(0, -1);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.length).toBeLessThan(101);
      const entries = lines.map((line) => JSON.parse(line) as Entry);
      for (const entry of entries) expect(entry).toMatchObject({ user_id: created.body.id });
      // In order, none missing: user.created, then the notes 0, 1, 2…
      const notes = entries.map((entry) => String((entry.details?.after as { claims?: { note?: string } } | undefined)?.claims?.note ?? '').split(':')[0]);
      expect(notes).toEqual(['', ...Array.from({ length: entries.length - 1 }, (_, i) => String(i))]);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);

  it('refuses an unknown --user with exit code 3', async () => {
    expect(await cli('audit', 'tail', '--user', 'nobody')).toMatchObject({ code: 3, stderr: 'trusty: user nobody was not found\n' });
  }, 30_000);

  it('export --since 1h prints JSON lines, oldest first, one event per line', async () => {
    await machineToken('export/1.0');
    // An export ends a second before it starts (docs/audit.md): let that second pass.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const result = await cli('audit', 'export', '--since', '1h');
    expect(result.code).toBe(0);
    const entries = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Entry);
    expect(entries.length).toBeGreaterThan(FAILED_AUTH_PER_KEY);
    expect(entries.map((e) => Date.parse(e.at))).toEqual(entries.map((e) => Date.parse(e.at)).sort((a, b) => a - b));
    expect(entries.find((e) => e.user_agent === 'export/1.0')).toMatchObject({ event: 'token.issued', client_id: 'machine' });
    const onlyFailures = await cli('audit', 'export', '--since', '1h', '--event', 'client.*');
    expect(onlyFailures.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as Entry).event)).toEqual(expect.arrayContaining(['client.auth_failed']));
    expect(onlyFailures.stdout).not.toContain('token.issued');
  }, 30_000);
});
