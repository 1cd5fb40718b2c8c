import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { callerKey } from '../../application/authorize/caller-key.js';
import {
  CLIENT_AUTHENTICATED_ENDPOINTS,
  FAILED_CLIENT_AUTH,
  RATE_LIMITED_ENDPOINTS,
  type FailureBudget,
  type RateLimitedEndpoint,
  type RateLimitedListener,
  type RateLimiter,
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
  /** Each budget's counter (rate_limits.per_ip), keyed by address: @fastify/rate-limit's store behind the RateLimiter port. */
  readonly perIp: Readonly<Record<RateLimitedEndpoint, RateLimiter>>;
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

const CLIENT_AUTHENTICATED: ReadonlySet<RateLimitedEndpoint> = new Set(CLIENT_AUTHENTICATED_ENDPOINTS);

/**
 * Per-address limits: one onRequest hook per budget, added to the routes whose config names it
 * (`config: { addressLimit: 'token' }`), so a refused request costs no body parsing. The key is
 * request.ip (X-Forwarded-For only from trust_proxy's addresses) as callerKey reads it: an IPv6
 * address by its /64, so one host cannot rotate through its prefix. Where clients authenticate,
 * the address's failed authentications are checked first, before any secret is hashed or
 * signature verified: a guessing run is refused until its window ends. Refusals are
 * TooManyRequests, rendered by the error handler: 429 with Retry-After as RFC 6749 JSON on the
 * APIs, a page on /auth and the login form. No X-RateLimit-* headers: they would cost on every
 * answer of the token endpoint and tell a prober its budget.
 *
 * The counting is @fastify/rate-limit's (its store, a fixed window from a key's first request),
 * through the RateLimiter port; the hook is ours and synchronous while the store answers at
 * once: the plugin's own hook awaits a chain of promises per request, which cost the token
 * endpoint about 5 % of its throughput in `npm run bench` (docs/rate-limits.md, "Cost").
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, limits: AddressLimits) => {
    const keyOf = addressKeys();
    const hooks = new Map<RateLimitedEndpoint, onRequestHookHandler>();
    for (const budget of RATE_LIMITED_ENDPOINTS) hooks.set(budget, addressHook(budget, limits, keyOf));
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
 * One budget's hook. RFC 6749 §10.10: the server MUST prevent attackers from guessing client
 * credentials: where clients authenticate, an address that used its failed authentications is
 * refused first (a synchronous LRU lookup), and that refusal is not counted against the
 * endpoint's budget.
 */
function addressHook(budget: RateLimitedEndpoint, limits: AddressLimits, keyOf: (request: FastifyRequest) => string): onRequestHookHandler {
  const { failedClientAuth, onRefused } = limits;
  const limiter = limits.perIp[budget];
  const checksFailures = CLIENT_AUTHENTICATED.has(budget);
  const refuse = (seconds: number): TooManyRequests => {
    onRefused?.(budget, 'ip');
    return TooManyRequests.fromAddress(seconds);
  };
  return (request, _reply, done) => {
    const key = keyOf(request);
    if (checksFailures) {
      const wait = failedClientAuth.retryAfter(key);
      if (wait > 0) {
        onRefused?.(FAILED_CLIENT_AUTH, 'ip');
        return done(TooManyRequests.fromFailedClientAuth(wait));
      }
    }
    let counted: number | Promise<number>;
    try {
      counted = limiter.hit(key);
    } catch (error) {
      return done(error as Error);
    }
    // An in-memory store answers at once: no promise on the token endpoint's way.
    if (typeof counted === 'number') return counted > 0 ? done(refuse(counted)) : done();
    counted.then(
      (seconds) => (seconds > 0 ? done(refuse(seconds)) : done()),
      (error: unknown) => done(error as Error),
    );
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
