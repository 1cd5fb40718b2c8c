/**
 * npm run bench — Trusty beside node-oidc-provider (the reference) and bare Fastify + jose
 * (bench/limit.ts), with autocannon. Each scenario warms every server up, then runs on each
 * server in turn, round after round; the table shows each server's median round, and the ratio
 * is the median of the rounds' own ratios, so a burst of noise on a shared machine moves one
 * round, not the result.
 * Options: --duration <s> (10), --rounds <n> (3), --connections <n> (50), --warmup <s> (3),
 * --scenario <a|b|c|d|e> (repeatable), --profile (a CPU profile of Trusty in bench/results/profile/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { stringify } from 'yaml';
import { runFlows } from './flow.js';

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '3' },
    scenario: { type: 'string', multiple: true },
    // Writes a CPU profile of the Trusty process to bench/results/profile/ (node --cpu-prof).
    profile: { type: 'boolean', default: false },
    // Extra node flags for the Trusty process, for experiments (e.g. --node-flags=--max-semi-space-size=8).
    'node-flags': { type: 'string', default: '' },
  },
});
const duration = Number(options.duration);
const connections = Number(options.connections);
const warmup = Number(options.warmup);
const rounds = Number(options.rounds);
for (const [name, value] of Object.entries({ duration, connections, warmup, rounds })) {
  if (!Number.isInteger(value) || value < (name === 'warmup' ? 0 : 1)) throw new Error(`--${name} must be a whole number${name === 'warmup' ? '' : ' above 0'}`);
}
const SCENARIOS = ['a', 'b', 'c', 'd', 'e'] as const;
type Scenario = (typeof SCENARIOS)[number];
const selected = (options.scenario?.length ? options.scenario : SCENARIOS) as Scenario[];
const TITLES: Record<Scenario, string> = {
  a: 'client_credentials, client_secret_basic',
  b: 'client_credentials, private_key_jwt (fresh assertion each)',
  c: 'introspection of a valid access token',
  d: 'discovery document',
  e: 'whole code flow: PAR + private_key_jwt + DPoP + login + token (1 connection)',
};

/** Issue 5's targets: Trusty / reference requests per second, per scenario. */
const RATIO_TARGETS: Partial<Record<Scenario, number>> = { a: 2.0, b: 1.8, c: 2.0, d: 4.0 };
const PEAK_RSS_TARGET_MB = 120;
const IDLE_RSS_MARGIN_MB = 10;
/** Linux's USER_HZ: the unit of the CPU times in /proc/<pid>/stat. */
const CLOCK_TICKS_PER_SECOND = 100;

const root = new URL('..', import.meta.url).pathname;
/** Trusty runs as `npm start` runs it, with the node flags of package.json's start script. */
const START_FLAGS = startFlags(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start as string);

function startFlags(script: string): string[] {
  const match = /\bnode((?: --\S+)*) dist\/trusty\.cjs/.exec(script);
  if (match === null) throw new Error(`package.json's start script does not run node … dist/trusty.cjs: ${script}`);
  return match[1]!.split(' ').filter(Boolean);
}
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const API = 'https://api.example.com/';
const OPAQUE_API = 'https://opaque.example.com/';
const CALLBACK = 'http://127.0.0.1:9/bench/callback';
const basic = (id: string) => 'Basic ' + Buffer.from(`${id}:${SECRET}`).toString('base64');

type Name = 'trusty' | 'reference' | 'limit';
interface Target {
  readonly name: Name;
  readonly issuer: string;
  readonly process: ChildProcess;
  idleRssMb: number;
  /** Endpoint URLs, from each server's discovery document. */
  token: string;
  introspection: string;
}

const clientKeys = await generateKeyPair('ES256', { extractable: true });
const clientJwk: JWK = { ...(await exportJWK(clientKeys.publicKey)), kid: 'svc-key', alg: 'ES256', use: 'sig' };
const signingKeys = await generateKeyPair('ES256', { extractable: true });
const signingJwk = { ...(await exportJWK(signingKeys.privateKey)), kid: 'ref-key', alg: 'ES256', use: 'sig' };
const work = mkdtempSync(join(tmpdir(), 'trusty-bench-'));

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(field));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

async function startTrusty(): Promise<Target> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const scope = 'invoices:read invoices:write';
  const config = {
    issuer,
    port,
    log_level: 'info',
    database: { path: join(work, 'trusty.db') },
    // Login is part of scenario e; the reference's dev login checks no password at all.
    passwords: { bcrypt_cost: 4 },
    // The reference is configured without DPoP nonces: the same round trips for both.
    dpop: { require_nonce: false },
    // Thousands of requests a second from one loopback address: budgets no run reaches, with the
    // limiter still on, so its cost is in the numbers (docs/rate-limits.md).
    rate_limits: {
      enabled: true,
      per_ip: { auth: 10_000_000, login: 10_000_000, token: 10_000_000, par: 10_000_000, introspect: 10_000_000, revoke: 10_000_000 },
      per_client: { token: 10_000_000, par: 10_000_000, introspect: 10_000_000, revoke: 10_000_000 },
    },
    clients: [
      { client_id: 'svc-basic', client_secret: SECRET, grant_types: ['client_credentials'], scope, resources: [API] },
      { client_id: 'svc-jwt', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [clientJwk] }, grant_types: ['client_credentials'], scope, resources: [API] },
      // RFC 7662 §4: a resource server sees the tokens of the audiences it is registered for (scenario c's tokens are for API).
      { client_id: 'introspector', client_secret: SECRET, grant_types: [], resource_server: true, introspection_audiences: [API] },
      {
        client_id: 'bank',
        profile: 'fapi2',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [clientJwk] },
        redirect_uris: [CALLBACK],
        scope: 'openid',
        require_consent: false,
      },
    ],
    users: [{ username: 'alice', password: 'alice-password' }],
  };
  const file = join(work, 'config.yaml');
  writeFileSync(file, stringify(config));
  const profile = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'bench/results/profile')}`] : [];
  const flags = options['node-flags'].split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...START_FLAGS, ...flags, ...profile, join(root, 'dist/trusty.cjs')], { env: { ...process.env, TRUSTY_CONFIG: file }, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(`${issuer}/health`, child);
  return withEndpoints({ name: 'trusty', issuer, process: child, idleRssMb: 0, token: '', introspection: '' });
}

async function startReference(): Promise<Target> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const env = { ...process.env, NODE_ENV: 'production', REF_CONFIG: JSON.stringify({ issuer, port, secret: SECRET, clientJwk, signingJwk, resource: API, opaqueResource: OPAQUE_API, callback: CALLBACK }) };
  const child = spawn(process.execPath, [join(root, 'bench/reference-server.mjs')], { env, stdio: ['ignore', 'ignore', 'ignore'] });
  await waitFor(`${issuer}/.well-known/openid-configuration`, child);
  return withEndpoints({ name: 'reference', issuer, process: child, idleRssMb: 0, token: '', introspection: '' });
}

/** The bare routes; their discovery document is Trusty's, byte for byte but for the issuer, so d compares like with like. */
async function startLimit(trusty: Target): Promise<Target> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const discovery = (await (await fetch(`${trusty.issuer}/.well-known/openid-configuration`)).text()).replaceAll(trusty.issuer, issuer);
  const env = { ...process.env, LIMIT_CONFIG: JSON.stringify({ port, issuer, secret: SECRET, clientJwk, signingJwk, resource: API, discovery }) };
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/limit.ts')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(`${issuer}/.well-known/openid-configuration`, child);
  return withEndpoints({ name: 'limit', issuer, process: child, idleRssMb: 0, token: '', introspection: '' });
}

async function withEndpoints(target: Target): Promise<Target> {
  const doc = (await (await fetch(`${target.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
  return { ...target, token: doc.token_endpoint!, introspection: doc.introspection_endpoint! };
}

/** Fresh client assertions, signed before the timed window (each request needs its own jti). */
async function assertions(issuer: string, count: number): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  const sign = () =>
    new SignJWT({ iss: 'svc-jwt', sub: 'svc-jwt', aud: issuer, jti: randomUUID(), iat: now, exp: now + 290 }).setProtectedHeader({ alg: 'ES256', kid: 'svc-key' }).sign(clientKeys.privateKey);
  const out: string[] = [];
  // In batches, so that the crypto thread pool signs several at once.
  while (out.length < count) out.push(...(await Promise.all(Array.from({ length: Math.min(512, count - out.length) }, sign))));
  return out;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

async function post(url: string, body: string, headers: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', body, headers: { ...FORM, ...headers } });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** One real request, checked, before the timed window: a run with broken answers must not count. */
async function sample(target: Target, scenario: Exclude<Scenario, 'e'>, request: { url: string; method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }) {
  const url = request.url;
  const response =
    request.method === 'GET' ? { status: (await fetch(url)).status, json: (await (await fetch(url)).json()) as Record<string, unknown> } : await post(url, request.body!, request.headers);
  const ok =
    scenario === 'd' ? response.json.issuer === target.issuer : scenario === 'c' ? response.json.active === true : decodeJwt(String(response.json.access_token)).client_id !== undefined;
  if (response.status !== 200 || !ok) throw new Error(`${target.name} ${scenario}: sample answer is wrong: ${response.status} ${JSON.stringify(response.json).slice(0, 300)}`);
}

interface Row {
  scenario: Scenario;
  server: Name;
  round: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Cores used during the window by the server (all threads) and by the load generator. */
  serverCores?: number;
  clientCores?: number;
}

/** One server's part of a scenario: checked once, then run for as many windows as asked. */
type Runner = (seconds: number) => Promise<Omit<Row, 'scenario' | 'server' | 'round'>>;

/** autocannon's result, and the cores the load generator (this process) used meanwhile. */
async function cannon(url: string, opts: Partial<autocannon.Options> & { seconds: number }): Promise<autocannon.Result & { clientCores: number }> {
  const [cpu, started] = [process.cpuUsage(), performance.now()];
  const result = await autocannon({ url, connections, duration: opts.seconds, ...opts });
  const used = process.cpuUsage(cpu);
  return { ...result, clientCores: (used.user + used.system) / 1000 / (performance.now() - started) };
}

const fromCannon = (result: Awaited<ReturnType<typeof cannon>>) => ({
  rps: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  errors: result.errors + result.timeouts,
  non2xx: result.non2xx,
  clientCores: result.clientCores,
});

/** CPU seconds a process has used so far, all its threads (user + system, /proc/<pid>/stat). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Token requests per second seen so far per server (a, b), to size the assertions b signs ahead. */
const rates = new Map<Name, number>();

async function prepare(scenario: Scenario, target: Target): Promise<Runner | undefined> {
  if (scenario === 'e') {
    if (target.name === 'limit') return undefined;
    return async (seconds) => {
      const flows = await runFlows(target, { seconds, clientKey: clientKeys.privateKey, callback: CALLBACK });
      return { rps: flows.perSecond, p50: flows.p50, p99: flows.p99, errors: flows.errors, non2xx: 0 };
    };
  }
  let request: { url: string; method: 'GET' | 'POST'; headers: Record<string, string>; body?: string };
  if (scenario === 'a') {
    request = secretTokenRequest(target);
  } else if (scenario === 'b') {
    request = { url: target.token, method: 'POST', headers: FORM, body: (await assertionBodies(target.issuer, 1))[0] };
  } else if (scenario === 'c') {
    const issued = await post(target.token, form({ grant_type: 'client_credentials', scope: 'invoices:read', resource: target.name === 'reference' ? OPAQUE_API : API }), { authorization: basic('svc-basic') });
    request = { url: target.introspection, method: 'POST', headers: { ...FORM, authorization: basic('introspector') }, body: form({ token: String(issued.json.access_token) }) };
  } else {
    request = { url: `${target.issuer}/.well-known/openid-configuration`, method: 'GET', headers: {} };
  }
  await sample(target, scenario, request);
  const base = { method: request.method, headers: request.headers, body: request.body } as const;
  return async (seconds) => {
    let perRequest: Partial<autocannon.Options> = {};
    if (scenario === 'b') {
      // Each request needs its own assertion (a fresh jti): all of them signed before the window.
      // As many as the fastest rate seen so far on this server allows, and half as many again.
      const bodies = await assertionBodies(target.issuer, Math.ceil((rates.get(target.name) ?? 5000) * 1.5 * seconds) + 100);
      perRequest = { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, body: bodies.pop() ?? '' }) }] };
    }
    const result = fromCannon(await cannon(request.url, { ...base, ...perRequest, seconds }));
    if (scenario === 'a' || scenario === 'b') rates.set(target.name, Math.max(rates.get(target.name) ?? 0, result.rps));
    return result;
  };
}

async function assertionBodies(issuer: string, count: number): Promise<string[]> {
  return (await assertions(issuer, count)).map((assertion) =>
    form({ grant_type: 'client_credentials', scope: 'invoices:read', resource: API, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
  );
}

/** Scenario a's request: client_credentials with client_secret_basic. */
function secretTokenRequest(target: Target) {
  return { url: target.token, method: 'POST' as const, headers: { ...FORM, authorization: basic('svc-basic') }, body: form({ grant_type: 'client_credentials', scope: 'invoices:read', resource: API }) };
}

/** Scenario a at one connection: the time of one token request with nothing queued before it. */
async function singleConnection(target: Target) {
  const { url, ...request } = secretTokenRequest(target);
  const result = fromCannon(await cannon(url, { ...request, connections: 1, seconds: duration }));
  // autocannon records whole milliseconds: 0 means under 1 ms. The mean time per request is exact.
  return { ...result, meanMs: 1000 / result.rps };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const targets: Target[] = [];
try {
  const trusty = await startTrusty();
  targets.push(trusty, await startReference(), await startLimit(trusty));
  await new Promise((r) => setTimeout(r, 1000));
  for (const target of targets) target.idleRssMb = statusMb(target.process.pid!, 'VmRSS');
  const rows: Row[] = [];
  let single: Awaited<ReturnType<typeof singleConnection>> | undefined;
  for (const scenario of selected) {
    const runners: Array<[Target, Runner]> = [];
    for (const target of targets) {
      const runner = await prepare(scenario, target);
      if (runner === undefined) continue;
      runners.push([target, runner]);
      if (warmup > 0) await runner(warmup);
    }
    for (let round = 1; round <= rounds; round++) {
      // Reversed every other round: no server always runs just after another's load.
      for (const [target, runner] of round % 2 === 1 ? runners : [...runners].reverse()) {
        const pid = target.process.pid!;
        // The server is idle outside the timed window (b signs its assertions before it).
        const cpuBefore = cpuSeconds(pid);
        const result = await runner(duration);
        const row = { scenario, server: target.name, round, ...result, serverCores: (cpuSeconds(pid) - cpuBefore) / duration };
        rows.push(row);
        const cores = `cores ${row.serverCores.toFixed(2)}${row.clientCores === undefined ? '' : ` + load ${row.clientCores.toFixed(2)}`}`;
        console.error(
          `${scenario} ${String(round).padStart(2)} ${target.name.padEnd(9)} ${row.rps.toFixed(scenario === 'e' ? 1 : 0).padStart(7)} req/s  p50 ${row.p50} ms  p99 ${row.p99} ms  errors ${row.errors}  non-2xx ${row.non2xx}  ${cores}  rss ${round1(statusMb(pid, 'VmRSS'))} MB  peak ${round1(statusMb(pid, 'VmHWM'))} MB`,
        );
      }
    }
    if (scenario === 'a') {
      single = await singleConnection(targets[0]!);
      console.error(`a  1 connection trusty ${single.rps.toFixed(0)} req/s  mean ${single.meanMs.toFixed(2)} ms  p50 ${single.p50} ms  p99 ${single.p99} ms`);
    }
  }
  const memory = Object.fromEntries(targets.map((t) => [t.name, { idleRssMb: round1(t.idleRssMb), peakRssMb: round1(statusMb(t.process.pid!, 'VmHWM')) }])) as Record<Name, Memory>;
  report(rows, memory, single);
} finally {
  for (const target of targets) target.process.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}

interface Memory {
  idleRssMb: number;
  peakRssMb: number;
}

interface Summary {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** A server's median round of a scenario; errors and non-2xx answers add up over all rounds. */
function summarise(rows: Row[], scenario: Scenario, server: Name): Summary | undefined {
  const own = rows.filter((r) => r.scenario === scenario && r.server === server);
  if (own.length === 0) return undefined;
  const sum = (pick: (r: Row) => number) => own.reduce((n, r) => n + pick(r), 0);
  return { rps: median(own.map((r) => r.rps)), p50: round1(median(own.map((r) => r.p50))), p99: round1(median(own.map((r) => r.p99))), errors: sum((r) => r.errors), non2xx: sum((r) => r.non2xx) };
}

/**
 * One server's rate over another's: the median of each round's own ratio. The servers run back
 * to back in a round, so a machine that turns slower between rounds moves both sides of a
 * round's ratio. NaN when either server has no rounds (the limit has no scenario e).
 */
function pairedRatio(rows: Row[], scenario: Scenario, numerator: Name, denominator: Name): number {
  const rps = (name: Name, round: number) => rows.find((r) => r.scenario === scenario && r.server === name && r.round === round)?.rps;
  const ratios: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const [top, bottom] = [rps(numerator, round), rps(denominator, round)];
    if (top !== undefined && bottom !== undefined && bottom > 0) ratios.push(top / bottom);
  }
  return median(ratios);
}

/** A scenario's three paired ratios: the target's, and the distance to the bare limit. */
function ratiosOf(rows: Row[], scenario: Scenario) {
  return {
    ratio: pairedRatio(rows, scenario, 'trusty', 'reference'),
    limitOverReference: pairedRatio(rows, scenario, 'limit', 'reference'),
    trustyOverLimit: pairedRatio(rows, scenario, 'trusty', 'limit'),
  };
}

/** Two decimals, cut rather than rounded: 1.797 is shown 1.79, never as a met 1.80. */
function times(ratio: number): string {
  return `${(Math.floor(ratio * 100) / 100).toFixed(2)} ×`;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function report(rows: Row[], memory: Record<Name, Memory>, single: Awaited<ReturnType<typeof singleConnection>> | undefined) {
  const lines = [
    `Trusty beside node-oidc-provider — ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, median of ${rounds} rounds of ${duration} s, ${connections} connections`,
    '',
    '| Scenario | Trusty req/s | p50 / p99 ms | Reference req/s | p50 / p99 ms | Trusty / reference | Limit req/s | Limit / reference | Trusty / limit | Errors / non-2xx |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const checks: Array<[string, boolean]> = [];
  for (const scenario of selected) {
    const t = summarise(rows, scenario, 'trusty');
    const r = summarise(rows, scenario, 'reference');
    const l = summarise(rows, scenario, 'limit');
    if (!t || !r) continue;
    const unit = scenario === 'e' ? ' flows/s' : '';
    const digits = scenario === 'e' ? 1 : 0;
    const { ratio, limitOverReference, trustyOverLimit } = ratiosOf(rows, scenario);
    const errors = t.errors + r.errors + (l?.errors ?? 0);
    const non2xx = t.non2xx + r.non2xx + (l?.non2xx ?? 0);
    lines.push(
      `| ${scenario}. ${TITLES[scenario]} | ${t.rps.toFixed(digits)}${unit} | ${t.p50} / ${t.p99} | ${r.rps.toFixed(digits)}${unit} | ${r.p50} / ${r.p99} | ${times(ratio)} | ${l ? l.rps.toFixed(0) : '—'} | ${l ? times(limitOverReference) : '—'} | ${l ? times(trustyOverLimit) : '—'} | ${errors} / ${non2xx} |`,
    );
    const target = RATIO_TARGETS[scenario];
    if (target !== undefined) checks.push([`${scenario}: Trusty / reference ${times(ratio)} ≥ ${target} ×`, ratio >= target]);
    checks.push([`${scenario}: Trusty p99 ${t.p99} ms ≤ the reference's ${r.p99} ms`, t.p99 <= r.p99]);
    checks.push([`${scenario}: 0 errors and 0 non-2xx (${errors} / ${non2xx})`, errors === 0 && non2xx === 0]);
  }
  if (single !== undefined) {
    lines.push('', `Scenario a at 1 connection (Trusty): ${single.rps.toFixed(0)} req/s, mean ${single.meanMs.toFixed(2)} ms, p50 ${single.p50} ms, p99 ${single.p99} ms.`);
    checks.push([`a at 1 connection: p50 ${single.p50} ms < 1 ms (mean ${single.meanMs.toFixed(2)} ms)`, single.p50 < 1 && single.errors === 0 && single.non2xx === 0]);
  }
  lines.push('', '| Memory | Idle RSS MB | Peak RSS MB |', '|---|---|---|');
  for (const [name, m] of Object.entries(memory)) lines.push(`| ${name} | ${m.idleRssMb} | ${m.peakRssMb} |`);
  checks.push([`idle RSS ${memory.trusty.idleRssMb} MB ≤ the reference's ${memory.reference.idleRssMb} + ${IDLE_RSS_MARGIN_MB} MB`, memory.trusty.idleRssMb <= memory.reference.idleRssMb + IDLE_RSS_MARGIN_MB]);
  checks.push([`peak RSS ${memory.trusty.peakRssMb} MB ≤ ${PEAK_RSS_TARGET_MB} MB`, memory.trusty.peakRssMb <= PEAK_RSS_TARGET_MB]);
  lines.push('', 'Targets (issue 5):', ...checks.map(([text, ok]) => `  ${ok ? 'met   ' : 'MISSED'}  ${text}`));
  console.log(lines.join('\n'));
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    join(root, 'bench/results/latest.json'),
    JSON.stringify(
      {
        at: new Date().toISOString(),
        machine: { cpus: cpus().length, model: cpus()[0]?.model.trim(), node: process.version },
        duration,
        rounds,
        connections,
        summary: Object.fromEntries(selected.map((scenario) => [scenario, { ...Object.fromEntries((['trusty', 'reference', 'limit'] as const).map((n) => [n, summarise(rows, scenario, n)])), ...ratiosOf(rows, scenario) }])),
        singleConnection: single,
        memory,
        targets: checks.map(([text, met]) => ({ text, met })),
        rows,
      },
      null,
      2,
    ),
  );
}
