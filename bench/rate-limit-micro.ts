/**
 * tsx bench/rate-limit-micro.ts — what rate_limits costs per request (docs/rate-limits.md):
 * 1. the per-client count at /token (ClientRateLimits.count over @fastify/rate-limit's LocalStore),
 *    beside a bare Map lookup and increment;
 * 2. the per-address onRequest hook (@fastify/rate-limit's handler, keyed by callerKey), called
 *    directly: at /token with the failed-client-authentication check before it, at /auth without;
 * Budgets are never reached: this is the cost of a request that is let through. The whole
 * server's cost shows in `npm run bench`, whose config keeps rate_limits on.
 */
import Fastify, { type FastifyReply, type FastifyRequest, type onRequestHookHandler } from 'fastify';
import { ClientRateLimits } from '../src/application/services/client-rate-limits.js';
import type { Client } from '../src/domain/client.js';
import { rateLimitPlugin } from '../src/http/plugins/rate-limit.js';
import { perEndpoint } from '../src/application/ports/rate-limiter.js';
import { LocalFailureBudget } from '../src/infrastructure/rate-limit/failure-budget.js';
import { inMemoryRateLimiter } from '../src/infrastructure/rate-limit/store-rate-limiter.js';

const HUGE = Number.MAX_SAFE_INTEGER;
const TOKEN = 'http://127.0.0.1:8081/token';

function nsPerOp(label: string, iterations: number, run: (i: number) => unknown): number {
  for (let i = 0; i < iterations / 10; i++) run(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) run(i);
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  console.log(`${label.padEnd(62)} ${ns.toFixed(0).padStart(6)} ns/op`);
  return ns;
}

async function nsPerAsyncOp(label: string, iterations: number, run: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < iterations / 10; i++) await run(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await run(i);
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  console.log(`${label.padEnd(62)} ${ns.toFixed(0).padStart(6)} ns/op`);
  return ns;
}

// 1. Per client.
const clients = Array.from({ length: 100 }, (_, i) => ({ clientId: `svc-${i}`, tokenEndpointAuthMethod: 'client_secret_basic' }) as Client);
const limits = new ClientRateLimits(new Map([[TOKEN, { endpoint: 'token' as const, limiter: inMemoryRateLimiter(HUGE, 60, 10_000) }]]));
const bare = new Map<string, { n: number }>();
const N = 2_000_000;
nsPerOp('baseline: Map.get + increment', N, (i) => {
  const key = clients[i % 100]!.clientId;
  const entry = bare.get(key);
  if (entry === undefined) bare.set(key, { n: 1 });
  else entry.n++;
});
nsPerOp('per client: ClientRateLimits.count, 1 client', N, () => limits.count(TOKEN, clients[0]!));
nsPerOp('per client: ClientRateLimits.count, 100 clients in turn', N, (i) => limits.count(TOKEN, clients[i % 100]!));

// 2. The per-address hook, called as Fastify calls it.
const app = Fastify();
await app.register(rateLimitPlugin, {
  perIp: perEndpoint(() => inMemoryRateLimiter(HUGE, 60, 10_000)),
  failedClientAuth: new LocalFailureBudget(HUGE, 60, 10_000),
});
const hooks = new Map<string, onRequestHookHandler>();
app.addHook('onRoute', (route) => {
  hooks.set(route.url, ([] as onRequestHookHandler[]).concat(route.onRequest ?? [])[0]!);
});
app.post('/token', { config: { addressLimit: 'token' } }, async () => 'ok');
app.post('/auth', { config: { addressLimit: 'auth' } }, async () => 'ok');
await app.ready();
type CallbackHook = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => void;
/** The hook as Fastify runs it: with a done callback (it answers synchronously in memory). */
type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
const promised = (hook: CallbackHook): Hook => (request, reply) => new Promise((resolve, reject) => hook(request, reply, (error) => (error ? reject(error) : resolve())));
const token = promised(hooks.get('/token') as unknown as CallbackHook);
const auth = promised(hooks.get('/auth') as unknown as CallbackHook);
const reply = {} as FastifyReply;
const routeOptions = { config: {} };
const from = (ip: string) => ({ ip, routeOptions }) as unknown as FastifyRequest;
await nsPerAsyncOp('per address: /auth hook, IPv4', 500_000, () => auth.call(app, from('127.0.0.1'), reply));
await nsPerAsyncOp('per address: /token hook (failed-auth check first), IPv4', 500_000, () => token.call(app, from('127.0.0.1'), reply));
await nsPerAsyncOp('per address: /token hook (failed-auth check first), IPv6 (/64 key)', 500_000, () => token.call(app, from('2001:db8:1:2:3:4:5:6'), reply));
await nsPerAsyncOp('reference: an empty async function awaited', 500_000, async () => undefined);

await app.close();
