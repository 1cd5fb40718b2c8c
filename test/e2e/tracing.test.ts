import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { basic, postForm } from '../support/flow.js';
import { freePort } from '../support/server.js';

/**
 * OpenTelemetry traces (docs/observability.md) of a real server process: with
 * OTEL_EXPORTER_OTLP_ENDPOINT set, one span per request reaches an OTLP/HTTP receiver (sent at
 * shutdown at the latest), named and attributed as the semantic conventions say, and holding no
 * secret; without it, no OpenTelemetry module is even loaded.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_ENTRY = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
// Random, so finding one in a span can only mean it was recorded.
const SECRET = `machine-secret-${randomUUID()}`;
const WRONG_SECRET = `wrong-secret-${randomUUID()}`;

const dirs: string[] = [];
const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An OTLP/HTTP receiver: what POST /v1/traces received, as text, with its content type. */
class Receiver {
  readonly requests: Array<{ path: string; contentType: string | undefined; body: string }> = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        this.requests.push({ path: request.url ?? '', contentType: request.headers['content-type'], body });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  }

  /** Every span received, with its attributes as a plain object. */
  spans(): Span[] {
    return this.requests.flatMap(({ body }) =>
      (JSON.parse(body) as OtlpTraces).resourceSpans.flatMap((resourceSpans) =>
        resourceSpans.scopeSpans.flatMap((scope) =>
          scope.spans.map((span) => ({ ...span, attributes: valuesOf(span.attributes), resource: valuesOf(resourceSpans.resource.attributes) })),
        ),
      ),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }
}

interface OtlpAttribute {
  readonly key: string;
  readonly value: { stringValue?: string; intValue?: number | string };
}
interface OtlpTraces {
  readonly resourceSpans: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: Array<{
      spans: Array<{
        name: string;
        kind: number;
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        status: { code?: number };
        attributes: OtlpAttribute[];
        links?: Array<{ traceId: string; spanId: string; traceState?: string }>;
      }>;
    }>;
  }>;
}
type Span = Omit<OtlpTraces['resourceSpans'][number]['scopeSpans'][number]['spans'][number], 'attributes'> & {
  attributes: Record<string, string | number>;
  resource: Record<string, string | number>;
};

function valuesOf(attributes: OtlpAttribute[]): Record<string, string | number> {
  return Object.fromEntries(attributes.map(({ key, value }) => [key, value.stringValue ?? Number(value.intValue)]));
}

/**
 * Loaded-module log: the ES modules resolved (a loader hook) and the CommonJS ones in
 * require.cache at exit, each @opentelemetry one as a line on stderr.
 */
const MODULE_LOG = `
import { register, createRequire } from 'node:module';
import { writeSync } from 'node:fs';
const hooks = "export async function resolve(specifier, context, next) { const result = await next(specifier, context); if (result.url.includes('/@opentelemetry/')) (await import('node:fs')).writeSync(2, 'OTEL-MODULE ' + result.url + '\\\\n'); return result; }";
register('data:text/javascript,' + encodeURIComponent(hooks));
const require = createRequire(import.meta.url);
process.on('exit', () => {
  for (const file of Object.keys(require.cache)) if (file.includes('/@opentelemetry/')) writeSync(2, 'OTEL-MODULE ' + file + '\\n');
  // What @opentelemetry/api registers globally (a provider, a logger...), if anything.
  const global = globalThis[Symbol.for('opentelemetry.js.api.1')];
  if (global !== undefined) writeSync(2, 'OTEL-GLOBAL ' + Object.keys(global).join(' ') + '\\n');
});
`;

interface Trusty {
  readonly issuer: string;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** `node --import tsx src/server.ts` with its own config.yaml and only the OTEL_* variables given. */
async function startTrusty(env: Record<string, string>, settings: Record<string, unknown> = {}): Promise<Trusty> {
  const dir = mkdtempSync(join(tmpdir(), 'trusty-tracing-'));
  dirs.push(dir);
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const configPath = join(dir, 'config.yaml');
  writeFileSync(
    configPath,
    stringify({
      issuer,
      port,
      log_level: 'warn',
      database: { path: join(dir, 'trusty.db') },
      clients: [
        { client_id: 'machine', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'invoices:read' },
        { client_id: 'web', client_secret: SECRET, redirect_uris: ['http://127.0.0.1:9/cb'], scope: 'openid' },
      ],
      ...settings,
    }),
  );
  const preload = join(dir, 'module-log.mjs');
  writeFileSync(preload, MODULE_LOG);
  const inherited = { ...process.env };
  for (const name of Object.keys(inherited)) if (name.startsWith('OTEL_') || ['PORT', 'HOST', 'ISSUER', 'DATABASE_PATH', 'LOG_LEVEL'].includes(name)) delete inherited[name];
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', preload, SERVER_ENTRY], {
    cwd: ROOT,
    env: { ...inherited, TRUSTY_CONFIG: configPath, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stderr = '';
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const healthy = await fetch(`${issuer}/health`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (healthy) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start: ${stderr}${stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    issuer,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      running.delete(child);
      return code;
    },
  };
}

/** The @opentelemetry packages a process reported loading (module-log.mjs). */
function openTelemetryPackages(stderr: string): string[] {
  const packages = [...stderr.matchAll(/^OTEL-MODULE .*?\/node_modules\/(@opentelemetry\/[^/]+)\//gm)].map((match) => match[1]!);
  return [...new Set(packages)].sort();
}

describe('OpenTelemetry traces, with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  it('one span per request with its route, status, grant type and client, sent at shutdown, holding no secret', async () => {
    const receiver = new Receiver();
    const endpoint = await receiver.start();
    try {
      const trusty = await startTrusty(
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          // No batch leaves before shutdown: the spans received were flushed by the stop.
          OTEL_BSP_SCHEDULE_DELAY: '600000',
          OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
        },
        // The test's requests come from 127.0.0.1: here they stand for a reverse proxy's.
        { trust_proxy: ['loopback'] },
      );
      // W3C Trace Context: through a trusted proxy, a caller's trace goes on in the server's span.
      const traceId = randomBytes(16).toString('hex');
      const parentId = randomBytes(8).toString('hex');
      const issued = await postForm(`${trusty.issuer}/token`, { grant_type: 'client_credentials' }, { authorization: basic('machine', SECRET), traceparent: `00-${traceId}-${parentId}-01` });
      expect(issued.status).toBe(200);
      const accessToken = issued.json.access_token as string;
      const refused = await postForm(`${trusty.issuer}/token`, { grant_type: 'client_credentials' }, { authorization: basic('machine', WRONG_SECRET) });
      expect(refused.status).toBe(401);
      // The authorization request's query (state, PKCE challenge…) is never recorded.
      const state = `state-${randomUUID()}`;
      const challenge = randomBytes(32).toString('base64url');
      await fetch(`${trusty.issuer}/auth?client_id=web&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('http://127.0.0.1:9/cb')}&state=${state}&code_challenge=${challenge}&code_challenge_method=S256`, { redirect: 'manual' });
      // Nothing sent yet (the batch waits); the stop sends it.
      expect(receiver.requests).toEqual([]);
      expect(await trusty.stop()).toBe(0);

      expect(receiver.requests.length).toBeGreaterThan(0);
      for (const request of receiver.requests) {
        expect(request.path).toBe('/v1/traces');
        expect(request.contentType).toBe('application/json');
      }
      const spans = receiver.spans();
      const tokenSpans = spans.filter((span) => span.name === 'POST /token');
      expect(tokenSpans).toHaveLength(2);
      const [ok, failed] = [tokenSpans.find((span) => span.attributes['http.response.status_code'] === 200)!, tokenSpans.find((span) => span.attributes['http.response.status_code'] === 401)!];
      expect(ok.attributes).toEqual({
        'http.request.method': 'POST',
        'http.route': '/token',
        'http.response.status_code': 200,
        'url.scheme': 'http',
        'oauth.grant_type': 'client_credentials',
        'oauth.client_id': 'machine',
      });
      expect(ok.kind).toBe(2); // SERVER
      expect(ok.traceId).toBe(traceId);
      expect(ok.parentSpanId).toBe(parentId);
      expect(ok.links ?? []).toEqual([]);
      expect(failed.attributes).toEqual({
        'http.request.method': 'POST',
        'http.route': '/token',
        'http.response.status_code': 401,
        'url.scheme': 'http',
        'oauth.grant_type': 'client_credentials',
        'oauth.client_id': 'machine',
        'error.type': 'invalid_client',
      });
      expect(failed.traceId).not.toBe(traceId);
      // A 4xx is the caller's error, not the server's (status unset).
      expect(failed.status.code ?? 0).toBe(0);
      const auth = spans.find((span) => span.name === 'GET /auth')!;
      expect(auth.attributes).toMatchObject({ 'http.route': '/auth', 'oauth.client_id': 'web' });
      expect(spans.find((span) => span.name === 'GET /health')?.attributes).toMatchObject({ 'http.route': '/health', 'http.response.status_code': 200 });
      expect(ok.resource).toMatchObject({ 'service.name': 'trusty', 'deployment.environment.name': 'test' });

      // No secret, token, credential or query string anywhere in what was sent.
      const sent = receiver.requests.map((request) => request.body).join('\n');
      const basicCredentials = Buffer.from(`machine:${SECRET}`).toString('base64');
      for (const secret of [SECRET, WRONG_SECRET, accessToken, accessToken.split('.')[2]!, basicCredentials, state, challenge]) {
        expect(sent).not.toContain(secret);
      }
      for (const span of spans) {
        for (const value of Object.values(span.attributes)) {
          expect(String(value)).not.toMatch(/[?&]|secret|eyJ/);
        }
      }
      // The SDK was loaded, and its logger registered (so the module log below would see them).
      expect(openTelemetryPackages(trusty.stderr())).toEqual(expect.arrayContaining(['@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http']));
      expect(trusty.stderr()).toMatch(/^OTEL-GLOBAL .*diag/m);
    } finally {
      await receiver.close();
    }
  }, 90_000);

  it('a traceparent from a caller that is not a trusted proxy starts a trace of its own, linked to the caller\'s: it can neither hide its spans nor join a chosen trace', async () => {
    const receiver = new Receiver();
    const endpoint = await receiver.start();
    try {
      // A proxy is trusted, but not the test's address (127.0.0.1); an X-Forwarded-For naming
      // the proxy's range changes nothing: only the socket's peer is checked.
      const trusty = await startTrusty({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '600000' }, { trust_proxy: ['10.0.0.0/8'] });
      const traceId = randomBytes(16).toString('hex');
      const parentId = randomBytes(8).toString('hex');
      // Flags 00: "not sampled", which a continued trace would obey (parentbased sampling).
      const issued = await postForm(
        `${trusty.issuer}/token`,
        { grant_type: 'client_credentials' },
        { authorization: basic('machine', SECRET), traceparent: `00-${traceId}-${parentId}-00`, tracestate: 'vendor=opaque', 'x-forwarded-for': '10.1.2.3' },
      );
      expect(issued.status).toBe(200);
      expect(await trusty.stop()).toBe(0);

      const [span, ...others] = receiver.spans().filter((candidate) => candidate.name === 'POST /token');
      expect(others).toEqual([]);
      // Recorded all the same, in a new trace, as a root span.
      expect(span!.attributes).toMatchObject({ 'http.route': '/token', 'http.response.status_code': 200, 'oauth.client_id': 'machine' });
      expect(span!.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(span!.traceId).not.toBe(traceId);
      expect(span!.parentSpanId ?? '').toBe('');
      // The caller's context is kept as a link, for whoever debugs it.
      expect(span!.links).toEqual([expect.objectContaining({ traceId, spanId: parentId, traceState: 'vendor=opaque' })]);
    } finally {
      await receiver.close();
    }
  }, 90_000);

  it('OTEL_SERVICE_NAME names the service', async () => {
    const receiver = new Receiver();
    const endpoint = await receiver.start();
    try {
      const trusty = await startTrusty({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'idp-eu-1' });
      expect(await trusty.stop()).toBe(0);
      expect(receiver.spans()[0]?.resource['service.name']).toBe('idp-eu-1');
    } finally {
      await receiver.close();
    }
  }, 90_000);
});

describe('without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('loads no OpenTelemetry SDK module and registers nothing global', async () => {
    const trusty = await startTrusty({});
    expect((await postForm(`${trusty.issuer}/token`, { grant_type: 'client_credentials' }, { authorization: basic('machine', SECRET) })).status).toBe(200);
    expect(await trusty.stop()).toBe(0);
    // prom-client (src/infrastructure/metrics) requires the API for its exemplars: without a
    // registered provider it is a no-op, and nothing was registered.
    expect(openTelemetryPackages(trusty.stderr())).toEqual(['@opentelemetry/api']);
    expect(trusty.stderr()).not.toContain('OTEL-GLOBAL');
  }, 90_000);
});
