import { isPublicClient, type Client } from '../../domain/client.js';
import { TooManyRequests } from '../../protocol/errors.js';
import type { RateLimitedEndpoint, RateLimitedListener, RateLimiter } from '../ports/rate-limiter.js';

/** One endpoint's per-client budget. */
export interface ClientBudget {
  readonly endpoint: RateLimitedEndpoint;
  readonly limiter: RateLimiter;
}

/**
 * Per-client budgets at /token, /par, /introspect and /revoke (config rate_limits.per_client),
 * counted by ClientAuthenticator once a client has authenticated, never before: a caller who
 * only names a client_id (with a wrong secret, or none) would otherwise spend that client's
 * budget and lock it out. A public client (token_endpoint_auth_method none) proves nothing by
 * authenticating, so it has no budget of its own: its callers are limited per address only.
 * Bounded: one counter per authenticated client and endpoint.
 */
export class ClientRateLimits {
  /** @param budgets by endpoint URL, as ClientAuthenticator.authenticate receives it */
  constructor(
    private readonly budgets: ReadonlyMap<string, ClientBudget>,
    private readonly onRefused?: RateLimitedListener,
  ) {}

  /**
   * Counts one request of `client` at `endpoint`: undefined within the budget (synchronously
   * with an in-memory limiter: a Map lookup and an increment on the token endpoint), otherwise
   * throws TooManyRequests (RFC 6585 §4), or returns the promise of a shared store's answer.
   */
  count(endpoint: string, client: Client): Promise<void> | undefined {
    if (isPublicClient(client)) return undefined;
    const budget = this.budgets.get(endpoint);
    if (budget === undefined) return undefined;
    const wait = budget.limiter.hit(client.clientId);
    if (wait === 0) return undefined;
    if (typeof wait === 'number') this.refuse(budget, wait);
    return Promise.resolve(wait).then((seconds) => {
      if (seconds > 0) this.refuse(budget, seconds);
    });
  }

  private refuse(budget: ClientBudget, seconds: number): never {
    this.onRefused?.(budget.endpoint, 'client');
    throw TooManyRequests.fromClient(seconds);
  }
}
