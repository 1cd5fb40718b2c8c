import { describe, expect, it } from 'vitest';
import type { Client } from '../../domain/client.js';
import { TooManyRequests } from '../../protocol/errors.js';
import type { RateLimitBudget, RateLimiter } from '../ports/rate-limiter.js';
import { ClientRateLimits } from './client-rate-limits.js';

/** A limiter that allows `max` hits per key, then answers `retryAfter`. */
function counting(max: number, retryAfter = 30, later = false): RateLimiter & { hits: string[] } {
  const counts = new Map<string, number>();
  const hits: string[] = [];
  return {
    hits,
    hit(key) {
      hits.push(key);
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      const answer = count > max ? retryAfter : 0;
      return later ? Promise.resolve(answer) : answer;
    },
  };
}

const confidential = { clientId: 'billing', tokenEndpointAuthMethod: 'client_secret_basic' } as Client;
const publicClient = { clientId: 'spa', tokenEndpointAuthMethod: 'none' } as Client;
const TOKEN = 'https://op.example/token';

describe('ClientRateLimits', () => {
  it('counts an authenticated client at its endpoint, synchronously, and refuses past the budget (RFC 6585 §4)', () => {
    const limiter = counting(2);
    const refused: Array<[RateLimitBudget, string]> = [];
    const limits = new ClientRateLimits(new Map([[TOKEN, { endpoint: 'token' as const, limiter }]]), (endpoint, counted) => refused.push([endpoint, counted]));
    expect(limits.count(TOKEN, confidential)).toBeUndefined();
    expect(limits.count(TOKEN, confidential)).toBeUndefined();
    let error: unknown;
    try {
      limits.count(TOKEN, confidential);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TooManyRequests);
    expect(error).toMatchObject({ status: 429, error: 'temporarily_unavailable', retryAfter: 30, description: 'too many requests from this client; retry after 30 seconds' });
    expect(refused).toEqual([['token', 'client']]);
  });

  it('gives public clients no budget (anyone can name them) and leaves endpoints without one alone', () => {
    const limiter = counting(0);
    const limits = new ClientRateLimits(new Map([[TOKEN, { endpoint: 'token' as const, limiter }]]));
    expect(limits.count(TOKEN, publicClient)).toBeUndefined();
    expect(limits.count('https://op.example/userinfo', confidential)).toBeUndefined();
    expect(limiter.hits).toEqual([]);
  });

  it('waits for a store that answers later', async () => {
    const limits = new ClientRateLimits(new Map([[TOKEN, { endpoint: 'token' as const, limiter: counting(1, 1, true) }]]));
    await expect(limits.count(TOKEN, confidential)).resolves.toBeUndefined();
    await expect(limits.count(TOKEN, confidential)).rejects.toMatchObject({ description: 'too many requests from this client; retry after 1 second' });
  });
});
