import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { perEndpoint, type RateLimitBudget, type RateLimitedEndpoint, type RateLimiter, type RateLimitKey } from '../../application/ports/rate-limiter.js';
import { inMemoryRateLimiter } from '../../infrastructure/rate-limit/store-rate-limiter.js';
import { LocalFailureBudget } from '../../infrastructure/rate-limit/failure-budget.js';
import { ADDRESSES_PER_BUDGET, rateLimitPlugin } from './rate-limit.js';

/**
 * The plugin on a bare Fastify, driven with inject (remoteAddress sets request.ip): what the
 * end-to-end tests cannot afford, thousands of addresses.
 */
const HIGH = 10_000_000;
type Hook = (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => void;
/** The per-address hook the plugin added to each route, by path. */
const hooks = new Map<string, Hook>();
let app: FastifyInstance | undefined;
afterEach(async () => app?.close());

async function limited(perIp: { token?: number; auth?: number }, failures: LocalFailureBudget, refused: Array<[RateLimitBudget, RateLimitKey]> = []) {
  app = Fastify();
  await app.register(rateLimitPlugin, {
    perIp: limiters({ auth: HIGH, login: HIGH, token: HIGH, par: HIGH, introspect: HIGH, revoke: HIGH, ...perIp }),
    failedClientAuth: failures,
    onRefused: (budget, key) => refused.push([budget, key]),
  });
  app.addHook('onRoute', (route) => {
    hooks.set(route.url, ([] as unknown as Hook[]).concat((route.onRequest ?? []) as unknown as Hook[])[0]!);
  });
  app.post('/token', { config: { addressLimit: 'token' } }, async () => 'ok');
  app.get('/auth', { config: { addressLimit: 'auth' } }, async () => 'ok');
  await app.ready();
  return app;
}

/** Each budget's counter, as src/container.ts makes them. */
function limiters(max: Record<RateLimitedEndpoint, number>): Record<RateLimitedEndpoint, RateLimiter> {
  return perEndpoint((budget) => inMemoryRateLimiter(max[budget], 60, ADDRESSES_PER_BUDGET));
}

const address = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

describe('rateLimitPlugin', () => {
  it(`remembers ${ADDRESSES_PER_BUDGET} addresses in each budget (not @fastify/rate-limit's default 5000), dropping the least recently seen beyond`, async () => {
    const server = await limited({ token: 1 }, new LocalFailureBudget(HIGH, 60, 10));
    // The route's hook called as Fastify calls it (inject would take seconds for so many addresses).
    const hook = hooks.get('/token')!;
    const post = (ip: string) =>
      new Promise<number>((resolve) =>
        hook.call(server, { ip, routeOptions: { config: {} } } as unknown as FastifyRequest, {} as FastifyReply, (error) => resolve(error === undefined ? 200 : (error as unknown as { status: number }).status)),
      );
    for (let i = 0; i < ADDRESSES_PER_BUDGET; i++) expect(await post(address(i))).toBe(200);
    // The first address is still counted: a store of 5000 would have dropped it long ago.
    expect(await post(address(0))).toBe(429);
    // One more address drops the least recently seen (address 1; address 0 was just seen).
    expect(await post(address(ADDRESSES_PER_BUDGET))).toBe(200);
    expect(await post(address(1))).toBe(200);
    expect(await post(address(0))).toBe(429);
    // The same through Fastify.
    expect((await server.inject({ method: 'POST', url: '/token', remoteAddress: address(0) })).statusCode).toBe(429);
  });

  it('refuses an address that used its failed client authentications at the client-authenticated endpoints only, before their own count', async () => {
    const failures = new LocalFailureBudget(2, 60, 10);
    const refused: Array<[RateLimitBudget, RateLimitKey]> = [];
    const server = await limited({ token: 3 }, failures, refused);
    failures.fail('203.0.113.1');
    failures.fail('203.0.113.1');
    const attacker = await server.inject({ method: 'POST', url: '/token', remoteAddress: '203.0.113.1' });
    expect(attacker.statusCode).toBe(429);
    expect(attacker.json()).toMatchObject({ message: 'too many failed client authentications from this address; retry after 60 seconds' });
    // The same key as the per-address limits: an IPv4-mapped address is its IPv4 address.
    expect((await server.inject({ method: 'POST', url: '/token', remoteAddress: '::ffff:203.0.113.1' })).statusCode).toBe(429);
    // /auth has no client authentication: not refused for it.
    expect((await server.inject({ method: 'GET', url: '/auth', remoteAddress: '203.0.113.1' })).statusCode).toBe(200);
    // Another address is served; the refusals spent nothing of the attacker's /token budget either.
    expect((await server.inject({ method: 'POST', url: '/token', remoteAddress: '203.0.113.2' })).statusCode).toBe(200);
    expect(refused).toEqual([
      ['failed_client_auth', 'ip'],
      ['failed_client_auth', 'ip'],
    ]);
  });
});
