import { describe, expect, it } from 'vitest';
import { client, manualClock } from '../../../test/unit/fixtures.js';
import { InvalidDpopProof } from '../../protocol/errors.js';
import { MemoryParStore } from '../../infrastructure/cache/memory-par-store.js';
import type { ClientRepository } from '../ports/repositories.js';
import type { IdTokenHints } from '../services/id-token-hint.js';
import { PushedRequests } from './pushed-requests.js';

const SPA = client({ clientId: 'spa', tokenEndpointAuthMethod: 'none', secretDigest: undefined });
const PARAMS = {
  response_type: 'code',
  scope: 'openid',
  redirect_uri: 'https://app.example/cb',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  code_challenge_method: 'S256',
};

/** A store with room for two of spa's requests: a third makes room by evicting the oldest. */
function pushedRequests() {
  const c = manualClock();
  const clients = { findById: async (id: string) => (id === 'spa' ? SPA : undefined) } as unknown as ClientRepository;
  const store = new MemoryParStore(10, c.fn, 2);
  const saved: string[] = [];
  const original = store.save.bind(store);
  store.save = async (handle, request, options) => {
    saved.push(handle);
    return original(handle, request, options);
  };
  return { store, saved, pushed: new PushedRequests(clients, store, { now: c.fn }, { ttl: 60, required: false, idTokenHints: {} as IdTokenHints }) };
}

describe('PushedRequests.push', () => {
  it('calls `validated` before storing anything, so a refused proof neither stores nor evicts a request', async () => {
    const { store, saved, pushed } = pushedRequests();
    let storedBeforeCall = -1;
    await pushed.push(SPA, PARAMS, undefined, async () => {
      storedBeforeCall = saved.length;
    });
    expect(storedBeforeCall).toBe(0);
    await pushed.push(SPA, PARAMS, undefined);
    expect(saved).toHaveLength(2);

    // spa is at its share: a stored push would evict the oldest; a refused one must not.
    const replay = new InvalidDpopProof('the DPoP proof jti was already used');
    await expect(pushed.push(SPA, PARAMS, undefined, async () => Promise.reject(replay))).rejects.toBe(replay);
    expect(saved).toHaveLength(2);
    expect(await store.find(saved[0]!)).toBeDefined();
    expect(await store.find(saved[1]!)).toBeDefined();
  });
});
