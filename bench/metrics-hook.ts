// What the metrics cost a token request, in isolation (docs/metrics.md, "Cost"): the onResponse
// hook's body on a real Fastify request and reply, the same hook run by Fastify's hook runner, the
// audit listener for token.issued, and for comparison prom-client's own labelled children.
// (A with/without comparison through app.inject or HTTP varies by several µs between runs on a
// shared machine, more than what is measured here: npm run bench answers for the whole server.)
// Run: npx tsx bench/metrics-hook.ts
import { createRequire } from 'node:module';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { Counter, Histogram, Registry } from 'prom-client';
import { TrustyMetrics, type MetricSources } from '../src/infrastructure/metrics/registry.js';
import { responseObserver } from '../src/http/routes/metrics.js';

const SOURCES: MetricSources = {
  now: () => Math.floor(Date.now() / 1000),
  activeSessions: async () => 0,
  pendingPushedRequests: () => 0,
  replayCache: () => ({ size: 0, capacity: 1 }),
  signingKeys: async () => [],
  passwordHashQueue: () => 0,
};

const ROUNDS = 7;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Nanoseconds per call of `body`, the median of ROUNDS rounds of `n` calls. */
function time(n: number, body: (i: number) => void): number {
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) body(i);
    rounds.push(Number(process.hrtime.bigint() - start) / n);
  }
  return median(rounds);
}

const metrics = new TrustyMetrics({ auth: 'none', token: undefined }, 100, SOURCES);

// A real request and reply, captured after a response, handed to the real hook.
const capture = Fastify();
let captured: [FastifyRequest, FastifyReply] | undefined;
capture.addHook('onResponse', (request, reply, done) => {
  captured ??= [request, reply];
  done();
});
capture.post('/token', async () => ({ access_token: 'x' }));
await capture.inject({ method: 'POST', url: '/token' });
const [request, reply] = captured!;
const hook = responseObserver(metrics.http);
const done = () => undefined;
const hookNs = time(2_000_000, () => hook(request, reply, done));

// The discovery and JWKS fast path (src/http/static-documents.ts): two clock reads and the same counters.
const staticNs = time(2_000_000, () => {
  const start = performance.now();
  metrics.http.observe('/.well-known/openid-configuration', 'GET', 200, (performance.now() - start) / 1000);
});

const event = { event: 'token.issued', clientId: 'bench-client', details: { grant_type: 'client_credentials', jti: 'j' } };
const auditNs = time(2_000_000, () => metrics.onAuditEvent(event));

const registry = new Registry();
const counter = new Counter({ name: 'c_total', help: 'c', labelNames: ['route', 'method', 'status'], registers: [registry] });
const histogram = new Histogram({ name: 'h', help: 'h', labelNames: ['route', 'method', 'status'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] });
const counterChild = counter.labels('/token', 'POST', '200');
const histogramChild = histogram.labels('/token', 'POST', '200');
const promClientNs = time(2_000_000, () => {
  counterChild.inc();
  histogramChild.observe(0.0003);
});

// What Fastify does with the onResponse hooks of a route when a response ends (lib/reply.js):
// runs them through its hook runner, then logs. Timed with the real runner (an internal module of
// Fastify, used here only), with this one hook and with none.
const { onResponseHookRunner } = createRequire(import.meta.url)('fastify/lib/hooks.js') as {
  onResponseHookRunner: (hooks: unknown[], request: FastifyRequest, reply: FastifyReply, cb: (...args: unknown[]) => void) => void;
};
const completed = () => undefined;
const hooks = [hook.bind(capture)];
const withHookNs = time(2_000_000, () => onResponseHookRunner(hooks, request, reply, completed));
const withoutHookNs = time(2_000_000, () => completed());

const line = (what: string, ns: number) => console.log(`${what.padEnd(72)} ${(ns / 1000).toFixed(3)} µs`);
line('onResponse hook body (route, method, status, elapsedTime -> counters)', hookNs);
line('the same hook as Fastify runs it (hook runner + body), per response', withHookNs - withoutHookNs);
line('audit listener for token.issued (client label, grant -> counter)', auditNs);
line('discovery/JWKS fast path (two clock reads + counters)', staticNs);
line('for comparison: prom-client labelled children, inc() + observe()', promClientNs);
