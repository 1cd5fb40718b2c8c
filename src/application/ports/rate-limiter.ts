/**
 * The endpoints with a per-address budget (config rate_limits.per_ip), by their config names:
 * the one list the plugin, the composition root and the metrics take their names from.
 */
export const RATE_LIMITED_ENDPOINTS = ['auth', 'login', 'token', 'par', 'introspect', 'revoke'] as const;
export type RateLimitedEndpoint = (typeof RATE_LIMITED_ENDPOINTS)[number];

/** One value per per-address budget (each endpoint's limiter, say). */
export function perEndpoint<T>(make: (endpoint: RateLimitedEndpoint) => T): Record<RateLimitedEndpoint, T> {
  const values = {} as Record<RateLimitedEndpoint, T>;
  for (const endpoint of RATE_LIMITED_ENDPOINTS) values[endpoint] = make(endpoint);
  return values;
}

/**
 * Where a client authenticates (RFC 6749 §2.3): each has a per-client budget
 * (rate_limits.per_client), and their failed authentications count against the caller's address.
 */
export const CLIENT_AUTHENTICATED_ENDPOINTS = ['token', 'par', 'introspect', 'revoke'] as const satisfies readonly RateLimitedEndpoint[];
export type ClientAuthenticatedEndpoint = (typeof CLIENT_AUTHENTICATED_ENDPOINTS)[number];

/**
 * The per-address budget of failed client authentications (rate_limits.per_ip.failed_client_auth),
 * shared by CLIENT_AUTHENTICATED_ENDPOINTS: named beside the endpoints' budgets in metrics.
 */
export const FAILED_CLIENT_AUTH = 'failed_client_auth';

/** A budget's name: an endpoint's, or FAILED_CLIENT_AUTH. */
export type RateLimitBudget = RateLimitedEndpoint | typeof FAILED_CLIENT_AUTH;

/** What a budget counts: the caller's address, or its authenticated client. */
export type RateLimitKey = 'ip' | 'client';

/** Told of each refused request, for metrics: the budget that refused it and what it counts. */
export type RateLimitedListener = (budget: RateLimitBudget, key: RateLimitKey) => void;

/**
 * A fixed-window request counter per key (a client_id, an address): `max` requests per window,
 * the window starting at a key's first request. In memory on one node
 * (src/infrastructure/rate-limit/, over @fastify/rate-limit's LocalStore); its Redis store
 * implements the same contract for several nodes.
 */
export interface RateLimiter {
  /**
   * Counts one request for `key`: 0 while it is within the window's budget, otherwise the
   * seconds (at least 1) until its window ends, for Retry-After (RFC 9110 §10.2.3). An in-memory
   * limiter answers synchronously (the token endpoint's hot path allocates no promise); a shared
   * store answers with a promise.
   */
  hit(key: string): number | Promise<number>;
}

/**
 * A fixed-window budget of failures per key (an address's failed client authentications): only
 * failures are counted (`fail`), and a key that used them all is refused before the work that
 * could fail again (`retryAfter`). In this process's memory, synchronous: checked on every
 * request of the token endpoint.
 */
export interface FailureBudget {
  /** 0 while `key` has failed fewer than `max` times in its window, else the seconds (at least 1) until the window ends. */
  retryAfter(key: string): number;
  /** Counts one failure of `key` (its window starts at its first). */
  fail(key: string): void;
}
