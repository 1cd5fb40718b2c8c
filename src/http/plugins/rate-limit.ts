import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { callerKey } from '../../application/authorize/caller-key.js';
import type { RateLimitedListener } from '../../application/ports/rate-limiter.js';
import { TooManyRequests } from '../../protocol/errors.js';

/** The endpoints limited per address (config rate_limits.per_ip). */
export type AddressBudget = 'auth' | 'login' | 'token' | 'par' | 'introspect' | 'revoke';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The per-address budget this route counts against (rate_limits.per_ip); routes naming the
     * same budget share it (GET and POST /auth). Inert when rate_limits.enabled is false.
     */
    addressLimit?: AddressBudget;
  }
}

/** What src/container.ts passes from config rate_limits when it is enabled. */
export interface AddressLimits {
  readonly windowSeconds: number;
  readonly perIp: Readonly<Record<AddressBudget, number>>;
  /** Told of each refusal (metrics). */
  readonly onRefused?: RateLimitedListener | undefined;
}

/**
 * Addresses counted per budget at once (about 150 bytes each: 1.5 MB per budget); beyond it the
 * least recently seen is dropped and starts a fresh window when it comes back. A caller needs
 * this many addresses (IPv6 /64 prefixes) to get one dropped, each with its own budget anyway.
 */
export const ADDRESSES_PER_BUDGET = 10_000;

const NO_HEADERS = { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': false } as const;

/**
 * Per-address limits with @fastify/rate-limit: one onRequest hook per budget, added to the routes
 * whose config names it (`config: { addressLimit: 'token' }`), so a refused request costs no
 * body parsing. The key is request.ip (X-Forwarded-For only from trust_proxy's addresses), an
 * IPv6 address counted by its /64 (callerKey): one host cannot rotate through its prefix.
 * Refusals are TooManyRequests, rendered by the error handler: 429 with Retry-After as RFC 6749
 * JSON on the APIs, a page on /auth and the login form. No X-RateLimit-* headers: they would
 * cost on every answer of the token endpoint and tell a prober its budget.
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, limits: AddressLimits) => {
    await app.register(fastifyRateLimit, {
      global: false,
      hook: 'onRequest',
      timeWindow: limits.windowSeconds * 1000,
      cache: ADDRESSES_PER_BUDGET,
      keyGenerator: addressKeys(),
      addHeaders: NO_HEADERS,
      addHeadersOnExceeding: NO_HEADERS,
      errorResponseBuilder: (_request, context) => TooManyRequests.fromAddress(context.ttl / 1000),
    });
    const hooks = new Map<AddressBudget, onRequestHookHandler>();
    for (const budget of Object.keys(limits.perIp) as AddressBudget[]) {
      const { onRefused } = limits;
      const hook = app.rateLimit({
        max: limits.perIp[budget],
        ...(onRefused === undefined ? {} : { onExceeded: () => onRefused(budget, 'address') }),
      });
      hooks.set(budget, hook as onRequestHookHandler);
    }
    app.addHook('onRoute', (route) => {
      const budget = route.config?.addressLimit;
      if (budget === undefined) return;
      const hook = hooks.get(budget);
      if (hook === undefined) throw new Error(`no rate_limits.per_ip budget named ${budget}`);
      const existing = route.onRequest;
      route.onRequest = existing === undefined ? [hook] : Array.isArray(existing) ? [...existing, hook] : [existing as onRequestHookHandler, hook];
    });
  },
  { name: 'trusty-rate-limit' },
);

/**
 * IPv6 addresses whose /64 key was computed, so that a caller's next requests cost a Map lookup
 * instead of callerKey's parsing (a few microseconds); emptied when full, so bounded whatever a
 * caller rotates through.
 */
const PREFIXES_REMEMBERED = 10_000;

/** IPv4 as is; IPv6 by its /64 (src/application/authorize/caller-key.ts). */
function addressKeys(): (request: FastifyRequest) => string {
  const prefixes = new Map<string, string>();
  return (request) => {
    const ip = request.ip;
    if (!ip.includes(':')) return ip;
    let key = prefixes.get(ip);
    if (key === undefined) {
      if (prefixes.size >= PREFIXES_REMEMBERED) prefixes.clear();
      key = callerKey(ip);
      prefixes.set(ip, key);
    }
    return key;
  };
}
