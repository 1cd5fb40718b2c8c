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

/** Told of each refused request, for metrics: the endpoint's name and what was counted. */
export type RateLimitedListener = (endpoint: RateLimitedEndpoint, counted: 'address' | 'client') => void;

/** The endpoints with a budget (config rate_limits.per_ip and per_client). */
export type RateLimitedEndpoint = 'auth' | 'login' | 'token' | 'par' | 'introspect' | 'revoke';
