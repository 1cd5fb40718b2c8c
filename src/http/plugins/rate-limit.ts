import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { callerKey } from '../../application/authorize/caller-key.js';
import {
  CLIENT_AUTHENTICATED_ENDPOINTS,
  FAILED_CLIENT_AUTH,
  RATE_LIMITED_ENDPOINTS,
  type FailureBudget,
  type RateLimitedEndpoint,
  type RateLimitedListener,
} from '../../application/ports/rate-limiter.js';
import { TooManyRequests } from '../../protocol/errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The per-address budget this route counts against (rate_limits.per_ip); routes naming the
     * same budget share it (GET and POST /auth). Inert when rate_limits.enabled is false.
     */
    addressLimit?: RateLimitedEndpoint;
  }
}

/** What src/container.ts passes from config rate_limits when it is enabled. */
export interface AddressLimits {
  readonly windowSeconds: number;
  readonly perIp: Readonly<Record<RateLimitedEndpoint, number>>;
  /**
   * Failed client authentications per address (rate_limits.per_ip.failed_client_auth): counted
   * by recordIfClientAuthFailed (src/http/failed-client-auth.ts), checked here first at the
   * endpoints where clients authenticate.
   */
  readonly failedClientAuth: FailureBudget;
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

const CLIENT_AUTHENTICATED: ReadonlySet<RateLimitedEndpoint> = new Set(CLIENT_AUTHENTICATED_ENDPOINTS);

type AsyncHook = (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Per-address limits with @fastify/rate-limit: one onRequest hook per budget, added to the routes
 * whose config names it (`config: { addressLimit: 'token' }`), so a refused request costs no
 * body parsing. The key is request.ip (X-Forwarded-For only from trust_proxy's addresses) as
 * callerKey reads it: an IPv6 address by its /64, so one host cannot rotate through its prefix.
 * Where clients authenticate, the address's failed authentications are checked first, before
 * any secret is hashed or signature verified: a guessing run is refused until its window ends.
 * Refusals are TooManyRequests, rendered by the error handler: 429 with Retry-After as RFC 6749
 * JSON on the APIs, a page on /auth and the login form. No X-RateLimit-* headers: they would
 * cost on every answer of the token endpoint and tell a prober its budget.
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, limits: AddressLimits) => {
    const keyOf = addressKeys();
    await app.register(fastifyRateLimit, {
      global: false,
      hook: 'onRequest',
      timeWindow: limits.windowSeconds * 1000,
      keyGenerator: keyOf,
      addHeaders: NO_HEADERS,
      addHeadersOnExceeding: NO_HEADERS,
      errorResponseBuilder: (_request, context) => TooManyRequests.fromAddress(context.ttl / 1000),
    });
    const { onRefused } = limits;
    const hooks = new Map<RateLimitedEndpoint, onRequestHookHandler>();
    for (const budget of RATE_LIMITED_ENDPOINTS) {
      const counting = app.rateLimit({
        max: limits.perIp[budget],
        // Each budget's store is a child of the plugin's, made from these options only (the
        // plugin's own `cache` is not passed down: without this each would hold 5000).
        cache: ADDRESSES_PER_BUDGET,
        ...(onRefused === undefined ? {} : { onExceeded: () => onRefused(budget, 'ip') }),
      }) as AsyncHook;
      hooks.set(budget, (CLIENT_AUTHENTICATED.has(budget) ? checkingFailedAuthFirst(counting, limits, keyOf) : counting) as onRequestHookHandler);
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
 * RFC 6749 §10.10: the server MUST prevent attackers from guessing client credentials. The
 * endpoint's hook, after the address's failed client authentications are checked: one hook, not
 * two (each costs a turn of Fastify's hook runner), and a synchronous check (an LRU lookup). A
 * refused request is not counted against the endpoint's budget.
 */
function checkingFailedAuthFirst(counting: AsyncHook, limits: AddressLimits, keyOf: (request: FastifyRequest) => string): AsyncHook {
  const { failedClientAuth, onRefused } = limits;
  return function (request, reply) {
    const wait = failedClientAuth.retryAfter(keyOf(request));
    if (wait > 0) {
      onRefused?.(FAILED_CLIENT_AUTH, 'ip');
      // Thrown synchronously: Fastify's hook runner hands it to the error handler.
      throw TooManyRequests.fromFailedClientAuth(wait);
    }
    return counting.call(this, request, reply);
  };
}

/**
 * Addresses whose key was computed, so that a caller's next requests cost a Map lookup instead
 * of callerKey's parsing (a few microseconds); emptied when full, so bounded whatever a caller
 * rotates through.
 */
const KEYS_REMEMBERED = 10_000;

/** callerKey(request.ip), remembered (src/application/authorize/caller-key.ts). */
function addressKeys(): (request: FastifyRequest) => string {
  const keys = new Map<string, string>();
  return (request) => {
    const ip = request.ip;
    let key = keys.get(ip);
    if (key === undefined) {
      if (keys.size >= KEYS_REMEMBERED) keys.clear();
      key = callerKey(ip);
      keys.set(ip, key);
    }
    return key;
  };
}
