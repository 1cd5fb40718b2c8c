import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BOUNDS } from '../../src/container.js';
import { Browser, parseForm } from '../support/browser.js';
import { basic, postForm } from '../support/flow.js';
import { freePort } from '../support/server.js';

/**
 * The server as an operator runs it (CONTRACT.md, "Starting the server"): a child process
 * reading the config.yaml named by TRUSTY_CONFIG, overridden by the environment, logging JSON
 * lines on stdout, stopping on SIGTERM/SIGINT. Nothing here imports the app: only the process,
 * its streams, its port and its SQLite file are observed.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_ENTRY = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
/** Environment variables the contract reads; never inherited from whoever runs the tests. */
const CONTRACT_ENV = ['TRUSTY_CONFIG', 'PORT', 'HOST', 'ISSUER', 'DATABASE_PATH', 'LOG_LEVEL'];

const SEED_LOG = 'configured clients and users seeded';
// Random, so finding one in a file or a log can only mean it was stored or logged in clear.
const CLIENT_SECRET = `client-secret-${randomUUID()}`;
const ALICE_PASSWORD = `alice-${randomUUID()}`;
const BOB_PASSWORD = `bob-${randomUUID()}`;

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const running = new Set<ServerProcess>();
const tempDirs: string[] = [];

afterEach(async () => {
  // Even when a test failed half-way: no server outlives its test.
  await Promise.all([...running].map((server) => server.kill()));
});
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** `node --import tsx src/server.ts`, its output collected; stdout parsed as JSON lines. */
class ServerProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly logs: LogLine[] = [];
  /** stdout lines that are not a JSON object with a numeric level and a string msg. */
  readonly invalidLines: string[] = [];
  exit: Exit | undefined;
  private readonly closed: Promise<Exit>;
  private partial = '';
  private readonly waiters = new Set<() => void>();

  constructor(configPath: string, env: Record<string, string> = {}) {
    const inherited = { ...process.env };
    for (const name of CONTRACT_ENV) delete inherited[name];
    this.child = spawn(process.execPath, ['--import', 'tsx', SERVER_ENTRY], {
      cwd: ROOT,
      env: { ...inherited, TRUSTY_CONFIG: configPath, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this);
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.wake();
    });
    this.child.once('error', (error) => {
      this.stderr += `(spawn error: ${error.message})`;
    });
    // 'close', not 'exit': stdout and stderr have been read to their end.
    this.closed = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        if (this.partial !== '') this.onLine(this.partial);
        this.exit = { code, signal };
        running.delete(this);
        this.wake();
        resolve(this.exit);
      });
    });
  }

  /** Resolves after `ms`, or sooner when the process writes something or exits. */
  nextEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  async waitForLog(match: (line: LogLine) => boolean, what: string, timeoutMs = 10_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(match);
      if (found !== undefined) return found;
      if (this.exit !== undefined) throw new Error(`the server exited (${describeExit(this.exit)}) without logging ${what}\n${this.transcript()}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no log line ${what} within ${timeoutMs} ms\n${this.transcript()}`);
      await this.nextEvent(remaining);
    }
  }

  async waitForExit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the server did not exit within ${timeoutMs} ms\n${this.transcript()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends the signal and waits for the exit (longer than server.ts's 10 s forced exit). */
  async stop(signal: NodeJS.Signals): Promise<Exit> {
    this.child.kill(signal);
    return this.waitForExit(12_000);
  }

  async kill(): Promise<void> {
    if (this.exit !== undefined) return;
    this.child.kill('SIGKILL');
    await this.closed;
  }

  messages(): string[] {
    return this.logs.map((line) => line.msg);
  }

  transcript(): string {
    return `--- stdout ---\n${this.stdout}--- stderr ---\n${this.stderr}`;
  }

  private onStdout(chunk: string): void {
    this.stdout += chunk;
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.onLine(line);
    this.wake();
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    try {
      const value: unknown = JSON.parse(line);
      if (isLogLine(value)) {
        this.logs.push(value);
        return;
      }
    } catch {
      // recorded below
    }
    this.invalidLines.push(line);
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

function isLogLine(value: unknown): value is LogLine {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.level === 'number' && typeof record.msg === 'string';
}

function describeExit(exit: Exit): string {
  return exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
}

/** Spawns the server and polls GET /health until 200 {"status":"ok"} (contract: ready). */
async function startServer(configPath: string, port: number, env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = new ServerProcess(configPath, env);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (server.exit !== undefined) throw new Error(`the server exited (${describeExit(server.exit)}) before it was ready\n${server.transcript()}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) });
      const body = await response.text();
      if (response.status === 200) {
        expect(JSON.parse(body)).toEqual({ status: 'ok' });
        return server;
      }
      expect(response.status).toBe(503); // contract: before ready, closed port or 503
    } catch (error) {
      if (!isNetworkError(error)) throw error;
    }
    if (Date.now() > deadline) throw new Error(`GET /health did not answer 200 within 15 s\n${server.transcript()}`);
    await server.nextEvent(50);
  }
}

function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError || (error instanceof DOMException && error.name === 'TimeoutError');
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function jwksKids(issuer: string): Promise<string[]> {
  const jwks = (await getJson(`${issuer}/.well-known/jwks.json`)) as { keys: Array<{ kid: string }> };
  return jwks.keys.map((key) => key.kid).sort();
}

/** Resolves true if nothing accepts a TCP connection on the port. */
function isRefused(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') resolve(true);
      // Reached the backlog just as the listener closed: not accepted, ask again.
      else if (error.code === 'ECONNRESET') resolve(false);
      else reject(error);
    });
  });
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trusty-process-'));
  tempDirs.push(dir);
  return dir;
}

function writeConfig(dir: string, config: unknown, name = 'config.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof config === 'string' ? config : stringify(config));
  return path;
}

interface ConfigOptions {
  readonly webRedirectUris?: string[];
  readonly aliceClaims?: Record<string, unknown>;
  readonly extraClients?: unknown[];
}

function serverConfig(port: number, databasePath: string, options: ConfigOptions = {}) {
  return {
    issuer: `http://127.0.0.1:${port}`,
    port,
    database: { path: databasePath },
    passwords: { bcrypt_cost: 4 },
    clients: [
      {
        client_id: 'web-app',
        client_name: 'Web App',
        client_secret: CLIENT_SECRET,
        redirect_uris: options.webRedirectUris ?? ['http://127.0.0.1:5001/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile email offline_access',
        require_consent: false,
      },
      { client_id: 'spa', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1:5003/callback'], scope: 'openid profile' },
      ...(options.extraClients ?? []),
    ],
    users: [
      { username: 'alice', password: ALICE_PASSWORD, claims: options.aliceClaims ?? { name: 'Alice Martin', email: 'alice@example.com' } },
      { username: 'bob', password: BOB_PASSWORD, claims: { name: 'Bob Durand' } },
    ],
  };
}

interface DbSnapshot {
  users: Array<{ username: string; id: string; password_hash: string; claims: string }>;
  clients: Array<Record<string, unknown>>;
  keys: Array<{ kid: string; alg: string; public_jwk: string; created_at: number; activates_at: number }>;
  migrations: Array<{ version: number; name: string; applied_at: number }>;
}

/** Reads the SQLite file read-only (the server is stopped: nothing is left in a WAL). */
function readDatabase(path: string): DbSnapshot {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return {
      users: db.prepare('SELECT username, id, password_hash, claims FROM users ORDER BY username').all() as DbSnapshot['users'],
      clients: db.prepare('SELECT * FROM clients ORDER BY client_id').all() as DbSnapshot['clients'],
      keys: db.prepare('SELECT kid, alg, public_jwk, created_at, activates_at FROM signing_keys ORDER BY kid').all() as DbSnapshot['keys'],
      migrations: db.prepare('SELECT version, name, applied_at FROM migrations ORDER BY version').all() as DbSnapshot['migrations'],
    };
  } finally {
    db.close();
  }
}

function seedReport(server: ServerProcess): unknown {
  const line = server.logs.find((l) => l.msg === SEED_LOG);
  expect(line, `a '${SEED_LOG}' log line\n${server.transcript()}`).toBeDefined();
  return { clients: line?.clients, users: line?.users };
}

function expectCleanStop(server: ServerProcess, exit: Exit, signal: NodeJS.Signals): void {
  expect(exit, server.transcript()).toEqual({ code: 0, signal: null });
  expect(server.invalidLines).toEqual([]);
  expect(server.stderr).toBe('');
  const messages = server.messages();
  expect(server.logs.find((l) => l.msg === 'stopping')).toMatchObject({ signal });
  expect(messages.at(-1)).toBe('stopped');
}

describe('a server across restarts (one config.yaml, one SQLite file)', { timeout: 30_000 }, () => {
  const dir = tempDir();
  const databasePath = join(dir, 'trusty.db'); // config says ./trusty.db: relative to the config file
  let port = 0;
  let configPath = '';
  let issuer = '';
  let first: { stdout: string; stderr: string; db: DbSnapshot; kids: string[] } | undefined;
  let second: DbSnapshot | undefined;

  it('starts, serves /health and discovery, logs JSON lines, and exits 0 on SIGTERM', async () => {
    port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    configPath = writeConfig(dir, { ...serverConfig(port, './trusty.db') });
    const server = await startServer(configPath, port);

    const discovery = await getJson(`${issuer}/.well-known/openid-configuration`);
    expect(discovery.issuer).toBe(issuer);
    expect(discovery.jwks_uri).toBe(`${issuer}/.well-known/jwks.json`);
    const kids = await jwksKids(issuer);
    expect(kids.length).toBeGreaterThan(0);

    const exit = await server.stop('SIGTERM');
    expectCleanStop(server, exit, 'SIGTERM');
    expect(server.logs.length).toBeGreaterThan(0);
    expect(server.messages()).toEqual(expect.arrayContaining(['starting', 'database migrated', 'signing keys created', SEED_LOG, 'stopping', 'stopped']));
    expect(server.logs.find((l) => l.msg === 'starting')).toMatchObject({ config: configPath, issuer });
    expect(seedReport(server)).toEqual({ clients: { created: 2, updated: 0, unchanged: 0, enabled: 0, disabled: 0 }, users: { created: 2, updated: 0, unchanged: 0, enabled: 0, disabled: 0 } });
    expect(existsSync(databasePath)).toBe(true);
    first = { stdout: server.stdout, stderr: server.stderr, db: readDatabase(databasePath), kids };
  });

  it('stores and logs neither the client secret nor the passwords in clear', () => {
    expect(first, 'needs the first start').toBeDefined();
    if (first === undefined) return;
    const db = first.db;

    const webApp = db.clients.find((row) => row.client_id === 'web-app');
    expect(webApp).toBeDefined();
    expect(webApp?.secret_digest).toEqual(expect.any(String));
    for (const row of db.clients) {
      for (const [column, value] of Object.entries(row)) {
        expect(String(value), `clients.${column} of ${String(row.client_id)}`).not.toContain(CLIENT_SECRET);
      }
    }
    expect(db.users.map((u) => u.username)).toEqual(['alice', 'bob']);
    for (const user of db.users) {
      expect(user.password_hash).toMatch(/^\$2b\$04\$[./A-Za-z0-9]{53}$/); // bcrypt at the configured cost 4
    }

    // The whole file (and a WAL or shared-memory file, should one be left), byte for byte.
    const files = readdirSync(dir).filter((name) => name.startsWith('trusty.db'));
    expect(files).toContain('trusty.db');
    for (const name of files) {
      const bytes = readFileSync(join(dir, name));
      for (const secret of [CLIENT_SECRET, ALICE_PASSWORD, BOB_PASSWORD]) {
        expect(bytes.includes(secret), `${secret} in ${name}`).toBe(false);
      }
    }
    for (const secret of [CLIENT_SECRET, ALICE_PASSWORD, BOB_PASSWORD]) {
      expect(first.stdout).not.toContain(secret);
      expect(first.stderr).not.toContain(secret);
    }
  });

  it('restarts with the same file without changing anything, and exits 0 on SIGINT', async () => {
    expect(first, 'needs the first start').toBeDefined();
    if (first === undefined) return;
    const server = await startServer(configPath, port);
    expect(await jwksKids(issuer)).toEqual(first.kids);
    const exit = await server.stop('SIGINT');
    expectCleanStop(server, exit, 'SIGINT');

    expect(seedReport(server)).toEqual({ clients: { created: 0, updated: 0, unchanged: 2, enabled: 0, disabled: 0 }, users: { created: 0, updated: 0, unchanged: 2, enabled: 0, disabled: 0 } });
    expect(server.messages()).not.toContain('database migrated');
    expect(server.messages()).not.toContain('signing keys created');
    second = readDatabase(databasePath);
    // Idempotent: the same rows, byte for byte (the sub, the bcrypt hashes, the keys, updated_at).
    expect(second).toEqual(first.db);
    expect(second.migrations.filter((m) => m.version === 1)).toHaveLength(1);
    for (const secret of [CLIENT_SECRET, ALICE_PASSWORD, BOB_PASSWORD]) {
      expect(server.stdout + server.stderr).not.toContain(secret);
    }
  });

  it('updates a changed client and user, keeping the sub and the signing keys', async () => {
    expect(first !== undefined && second !== undefined, 'needs the previous starts').toBe(true);
    if (first === undefined || second === undefined) return;
    const redirectUris = ['http://127.0.0.1:5001/callback', 'http://127.0.0.1:5001/other-callback'];
    const aliceClaims = { name: 'Alice Martin-Durand', email: 'alice@example.org', email_verified: true };
    writeConfig(dir, serverConfig(port, './trusty.db', { webRedirectUris: redirectUris, aliceClaims }));

    const server = await startServer(configPath, port);
    expect(await jwksKids(issuer)).toEqual(first.kids);
    const exit = await server.stop('SIGTERM');
    expectCleanStop(server, exit, 'SIGTERM');
    expect(seedReport(server)).toEqual({ clients: { created: 0, updated: 1, unchanged: 1, enabled: 0, disabled: 0 }, users: { created: 0, updated: 1, unchanged: 1, enabled: 0, disabled: 0 } });

    const db = readDatabase(databasePath);
    const idOf = (snapshot: DbSnapshot, username: string) => snapshot.users.find((u) => u.username === username)?.id;
    expect(idOf(db, 'alice')).toEqual(expect.any(String));
    expect(idOf(db, 'alice')).toBe(idOf(first.db, 'alice'));
    expect(idOf(db, 'bob')).toBe(idOf(first.db, 'bob'));
    expect(JSON.parse(db.users.find((u) => u.username === 'alice')?.claims ?? '{}')).toEqual(aliceClaims);
    expect(db.users.find((u) => u.username === 'alice')?.password_hash).toBe(first.db.users.find((u) => u.username === 'alice')?.password_hash);
    const webApp = db.clients.find((row) => row.client_id === 'web-app');
    expect(JSON.parse(String(webApp?.metadata))).toMatchObject({ redirectUris });
    expect(webApp?.secret_digest).toBe(first.db.clients.find((row) => row.client_id === 'web-app')?.secret_digest);
    expect(db.keys).toEqual(first.db.keys);
    expect(db.migrations).toEqual(first.db.migrations);
  });
});

describe('graceful stop', { timeout: 30_000 }, () => {
  /**
   * A POST /token whose headers are sent but whose body is held back: the server has the
   * request (at debug level it logs 'incoming request') and cannot answer before the rest of the body comes.
   * That makes "in flight while SIGTERM arrives" deterministic, without timing.
   */
  function heldTokenRequest(port: number, agent: Agent | false) {
    const body = new URLSearchParams({ grant_type: 'urn:example:params:oauth:grant-type:unknown', client_id: 'spa' }).toString();
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/token',
      agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    });
    const response = new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      req.once('error', reject);
      req.once('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.once('error', reject);
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
    });
    response.catch(() => undefined); // awaited later; a failure must not be reported as unhandled first
    req.write(body.slice(0, 10));
    return { response, finish: () => req.end(body.slice(10)) };
  }

  async function startWithHeldRequest(agent: Agent | false, settings: Record<string, unknown> = {}) {
    const port = await freePort();
    const dir = tempDir();
    const server = await startServer(writeConfig(dir, { ...serverConfig(port, join(dir, 'trusty.db')), log_level: 'debug', ...settings }), port);
    const held = heldTokenRequest(port, agent);
    const incoming = await server.waitForLog((l) => l.msg === 'incoming request' && (l.req as { path?: string } | undefined)?.path === '/token', "'incoming request' for POST /token");
    server.child.kill('SIGTERM');
    await server.waitForLog((l) => l.msg === 'stopping', "'stopping'");
    return { port, server, held, reqId: incoming.reqId };
  }

  it('stops accepting, finishes the request in flight, then exits 0', async () => {
    const { port, server, held, reqId } = await startWithHeldRequest(false); // agent false: Connection: close

    // Contract: stop accepting. The listening socket closes while the request is still open.
    const deadline = Date.now() + 5_000;
    while (!(await isRefused(port))) {
      expect(Date.now(), 'new connections are still accepted after SIGTERM').toBeLessThan(deadline);
      await server.nextEvent(20);
    }
    expect(server.exit).toBeUndefined();

    held.finish();
    const response = await held.response;
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'unsupported_grant_type' });

    const exit = await server.waitForExit(12_000);
    expectCleanStop(server, exit, 'SIGTERM');
    const completed = server.logs.findIndex((l) => l.msg === 'request completed' && l.reqId === reqId);
    expect(completed).toBeGreaterThan(server.messages().indexOf('stopping'));
    expect(completed).toBeLessThan(server.messages().indexOf('stopped'));
  });

  it('gives a request that never finishes shutdown.drain_seconds, then exits 1 saying so', async () => {
    const { server, held } = await startWithHeldRequest(false, { shutdown: { drain_seconds: 1 } });
    const started = Date.now();
    const exit = await server.waitForExit(5_000);
    expect(exit, server.transcript()).toEqual({ code: 1, signal: null });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(server.logs.find((l) => l.level === 50 && l.drain_seconds === 1)?.msg).toBe('in-flight requests did not finish within 1 s; exiting');
    held.finish();
    await held.response.catch(() => undefined);
  });

  // A keep-alive client must not hold the server open: answers close their connection while stopping.
  it('exits 0 promptly after the request in flight finishes on a keep-alive connection', async () => {
    const agent = new Agent({ keepAlive: true });
    try {
      const { server, held } = await startWithHeldRequest(agent);
      held.finish();
      expect((await held.response).status).toBe(400);
      const exit = await server.waitForExit(3_000);
      expectCleanStop(server, exit, 'SIGTERM');
    } finally {
      agent.destroy();
    }
  });
});

describe('environment overrides', { timeout: 30_000 }, () => {
  it('PORT, ISSUER, DATABASE_PATH and LOG_LEVEL override config.yaml', async () => {
    const dir = tempDir();
    const [filePort, envPort] = [await freePort(), await freePort()];
    expect(envPort).not.toBe(filePort);
    // A short secret makes the server warn: proof that warn lines still come out at LOG_LEVEL=warn.
    const shortSecretClient = { client_id: 'short', client_secret: 'too-short', grant_types: ['client_credentials'], scope: 'invoices:read' };
    const configPath = writeConfig(dir, { ...serverConfig(filePort, join(dir, 'file.db'), { extraClients: [shortSecretClient] }), log_level: 'info' });
    const envIssuer = `http://localhost:${envPort}`;
    const env = { PORT: String(envPort), ISSUER: envIssuer, DATABASE_PATH: join(dir, 'env.db'), LOG_LEVEL: 'warn' };

    const server = await startServer(configPath, envPort, env);
    expect((await getJson(`http://127.0.0.1:${envPort}/.well-known/openid-configuration`)).issuer).toBe(envIssuer);
    expect(await isRefused(filePort)).toBe(true);
    expect(existsSync(join(dir, 'env.db'))).toBe(true);
    expect(existsSync(join(dir, 'file.db'))).toBe(false);
    const exit = await server.stop('SIGTERM');

    expect(exit, server.transcript()).toEqual({ code: 0, signal: null });
    expect(server.stderr).toBe('');
    expect(server.invalidLines).toEqual([]);
    expect(server.logs.filter((l) => l.level < 40)).toEqual([]); // no info (30) nor debug lines
    expect(server.logs).toContainEqual(expect.objectContaining({ level: 40, client_id: 'short' }));
    expect(readDatabase(join(dir, 'env.db')).users).toHaveLength(2);
  });
});

describe('issuer, port and readiness', { timeout: 30_000 }, () => {
  it('PORT alone moves the issuer when neither ISSUER nor the file names one; /health/ready reports each check', async () => {
    const dir = tempDir();
    const port = await freePort();
    const { issuer: _issuer, port: _port, ...unset } = serverConfig(port, join(dir, 'trusty.db'));
    const server = await startServer(writeConfig(dir, unset), port, { PORT: String(port) });
    expect((await getJson(`http://127.0.0.1:${port}/.well-known/openid-configuration`)).issuer).toBe(`http://127.0.0.1:${port}`);
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', keys: 'ok' } });
    const exit = await server.stop('SIGTERM');
    expectCleanStop(server, exit, 'SIGTERM');
    expect(server.logs.filter((l) => l.level >= 40)).toEqual([]);
  });

  it('warns at start when a loopback issuer names another port than the one listened on', async () => {
    const dir = tempDir();
    const [filePort, envPort] = [await freePort(), await freePort()];
    const server = await startServer(writeConfig(dir, serverConfig(filePort, join(dir, 'trusty.db'))), envPort, { PORT: String(envPort) });
    const exit = await server.stop('SIGTERM');
    expect(exit, server.transcript()).toEqual({ code: 0, signal: null });
    expect(server.logs.find((l) => l.level === 40 && l.port === envPort)?.msg).toBe(
      `the issuer http://127.0.0.1:${filePort} names port ${filePort} but the server listens on port ${envPort}: set ISSUER (or issuer) to this server's public address, or leave it unset to follow PORT and HOST`,
    );
  });
});

describe('invalid configuration: exit code 2, one line on stderr naming the field', { timeout: 30_000 }, () => {
  async function expectConfigError(configPath: string, expected: RegExp): Promise<string> {
    const server = new ServerProcess(configPath);
    const exit = await server.waitForExit(15_000);
    expect(exit, server.transcript()).toEqual({ code: 2, signal: null });
    expect(server.stdout.trim()).toBe('');
    expect(server.stderr).not.toContain('    at ');
    const lines = server.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
    return lines[0] ?? '';
  }

  it('a redirect URI that is not a URL', async () => {
    const dir = tempDir();
    const config = serverConfig(await freePort(), join(dir, 'trusty.db'), { webRedirectUris: ['not a url'] });
    await expectConfigError(writeConfig(dir, config), /clients\[0\]\.redirect_uris\[0\]: must be an absolute URL/);
    expect(existsSync(join(dir, 'trusty.db'))).toBe(false);
  });

  // One run shared by the two tests below.
  let yamlError: Promise<{ configPath: string; line: string }> | undefined;
  const runYamlError = () =>
    (yamlError ??= (async () => {
      const configPath = writeConfig(tempDir(), 'issuer: http://127.0.0.1:8081\nclients: [\n  { client_id: web-app\nport: 8081\n');
      return { configPath, line: await expectConfigError(configPath, /^trusty: invalid configuration: /) };
    })());

  it('a YAML syntax error', async () => {
    const { configPath, line } = await runYamlError();
    expect(line).toContain(`${configPath}: `);
  });

  it('a YAML syntax error names its line', async () => {
    const { line } = await runYamlError();
    expect(line).toMatch(/: line 4, column \d+: /);
  });

  it('a missing configuration file', async () => {
    const missing = join(tempDir(), 'nowhere', 'config.yaml');
    await expectConfigError(missing, new RegExp(`${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*ENOENT`));
  });

  it("an unknown top-level key ('isuer')", async () => {
    const dir = tempDir();
    const { issuer, ...config } = serverConfig(await freePort(), join(dir, 'trusty.db'));
    await expectConfigError(writeConfig(dir, { isuer: issuer, ...config }), /\bisuer: is not a known setting/);
  });
});

describe('a port already in use', { timeout: 30_000 }, () => {
  it('exits 1 with a fatal log line naming the address, without hanging', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const address = blocker.address();
      const busyPort = typeof address === 'object' && address !== null ? address.port : 0;
      const dir = tempDir();
      const configPath = writeConfig(dir, serverConfig(await freePort(), join(dir, 'trusty.db')));

      const server = new ServerProcess(configPath, { PORT: String(busyPort) });
      const exit = await server.waitForExit(15_000);
      expect(exit, server.transcript()).toEqual({ code: 1, signal: null });
      expect(server.invalidLines).toEqual([]);
      const fatal = server.logs.find((l) => l.level === 60);
      expect(fatal, server.transcript()).toMatchObject({ msg: 'could not start' });
      expect(fatal?.err).toMatchObject({ code: 'EADDRINUSE', message: `listen EADDRINUSE: address already in use 127.0.0.1:${busyPort}` });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('security log lines at LOG_LEVEL=info (docs/operations.md, "Logs")', { timeout: 30_000 }, () => {
  it('logs a failed client authentication, failed logins and a 503, and never a secret, a password or the username typed', async () => {
    const dir = tempDir();
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    // The cheapest 5xx a process can be made to answer without lowering a bound: fill web-app's
    // share of pending pushed requests (BOUNDS.parPerClient). Its PAR rate limits are raised past
    // that share so the bound, not a 429, answers the request after it.
    const pushes = BOUNDS.parPerClient;
    const rateLimits = { per_ip: { par: pushes + 100 }, per_client: { par: pushes + 100 } };
    const server = await startServer(writeConfig(dir, { ...serverConfig(port, join(dir, 'trusty.db')), rate_limits: rateLimits }), port, { LOG_LEVEL: 'info' });
    const wrongSecret = `wrong-secret-${randomUUID()}`;
    const wrongPassword = `wrong-password-${randomUUID()}`;
    // What a person may type in the username field by mistake: their password.
    const typedUsername = `typed-username-${randomUUID()}`;
    const webApp = basic('web-app', CLIENT_SECRET);
    const redirectUri = 'http://127.0.0.1:5001/callback';
    const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

    // A token request with a wrong client secret (RFC 6749 §5.2 invalid_client).
    const refused = await postForm(`${issuer}/token`, { grant_type: 'refresh_token', refresh_token: 'not-a-token' }, { authorization: basic('web-app', wrongSecret) });
    expect(refused.status).toBe(401);
    expect(refused.json.error).toBe('invalid_client');
    const authFailed = await server.waitForLog((l) => l.msg === 'client authentication failed', "'client authentication failed'");
    expect(authFailed).toMatchObject({ level: 30, event: 'client.auth_failed', client_id: 'web-app', ip: '127.0.0.1', method: 'client_secret_basic', reason: 'client authentication failed', endpoint: '/token' });

    // Two failed logins through the hosted login page: alice with a wrong password, then a username nobody has.
    const browser = new Browser();
    const authorize = new URL(`${issuer}/auth`);
    for (const [name, value] of Object.entries({ client_id: 'web-app', redirect_uri: redirectUri, response_type: 'code', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state: 'log-test' })) {
      authorize.searchParams.set(name, value);
    }
    const loginPage = await browser.get(authorize.href);
    expect(loginPage.status, loginPage.html.slice(0, 500)).toBe(200);
    const wrong = await browser.submit(loginPage, parseForm(loginPage.html), { username: 'alice', password: wrongPassword });
    expect(wrong.status).toBe(401);
    const unknown = await browser.submit(wrong, parseForm(wrong.html), { username: typedUsername, password: ALICE_PASSWORD });
    expect(unknown.status).toBe(401);
    await server.waitForLog((l) => l.msg === 'login failed' && l.reason === 'unknown_user', "'login failed' for an unknown user");
    const loginFailures = server.logs.filter((l) => l.msg === 'login failed');
    expect(loginFailures).toEqual([
      expect.objectContaining({ level: 30, event: 'login.failure', client_id: 'web-app', ip: '127.0.0.1', reason: 'bad_password', user_id: expect.any(String) }),
      expect.objectContaining({ level: 30, event: 'login.failure', client_id: 'web-app', ip: '127.0.0.1', reason: 'unknown_user' }),
    ]);
    for (const line of loginFailures) {
      expect(line).not.toHaveProperty('username');
      expect(JSON.stringify(line)).not.toContain('alice');
    }

    // A 5xx: web-app's share of pending pushed requests full, the next push is 503 (RFC 9126 §2.3).
    const push = () => postForm(`${issuer}/par`, { redirect_uri: redirectUri, response_type: 'code', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' }, { authorization: webApp });
    const batch = 20;
    for (let sent = 0; sent < pushes; sent += batch) {
      const statuses = (await Promise.all(Array.from({ length: Math.min(batch, pushes - sent) }, push))).map((response) => response.status);
      expect(statuses.filter((status) => status !== 201), `pushes ${sent}…`).toEqual([]);
    }
    const full = await push();
    expect(full.status).toBe(503);
    expect(full.json.error).toBe('temporarily_unavailable');
    const answered = await server.waitForLog((l) => l.msg === 'answered 503 temporarily_unavailable', "'answered 503 temporarily_unavailable'");
    expect(answered).toMatchObject({
      level: 40,
      status: 503,
      error: 'temporarily_unavailable',
      error_description: 'too many pending pushed authorization requests for this client; retry shortly',
      route: '/par',
      reqId: expect.anything(),
    });

    const exit = await server.stop('SIGTERM');
    expectCleanStop(server, exit, 'SIGTERM');
    // One line per event, none per request (those are at debug).
    expect(server.logs.filter((l) => l.msg === 'client authentication failed')).toHaveLength(1);
    expect(server.logs.filter((l) => l.level === 40)).toEqual([answered]);
    expect(server.messages()).not.toContain('request completed');
    // Also the Basic credentials as sent (base64 of client_id:secret), should a header be logged.
    const basicCredentials = [webApp, basic('web-app', wrongSecret)].map((header) => header.slice('Basic '.length));
    for (const secret of [CLIENT_SECRET, wrongSecret, ALICE_PASSWORD, BOB_PASSWORD, wrongPassword, typedUsername, ...basicCredentials]) {
      expect(server.stdout, secret).not.toContain(secret);
    }
  });
});
