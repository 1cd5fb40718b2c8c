import { describe, expect, it } from 'vitest';
import { client } from '../../../test/unit/fixtures.js';
import { CachedClientKeys } from './client-jwks.js';

/** The key sets of private_key_jwt clients: one per Client object, none kept by client_id. */
const key = (kid: string) => ({ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid });
const keyed = (kid: string) => client({ clientId: 'agent', tokenEndpointAuthMethod: 'private_key_jwt', secretDigest: undefined, jwks: { keys: [key(kid)] } });

describe('CachedClientKeys', () => {
  it('keeps one key set per Client object, so the set of a replaced or deleted client goes with its object', () => {
    const keys = new CachedClientKeys();
    const first = keyed('k1');
    const set = keys.keysOf(first);
    expect(keys.keysOf(first)).toBe(set);
    // The same client_id made again (or its keys replaced): a new object, its own set ...
    const second = keyed('k2');
    expect(keys.keysOf(second)).not.toBe(set);
    // ... and nothing is held by client_id: the first object's set is still its own.
    expect(keys.keysOf(first)).toBe(set);
  });

  it('a jwks_uri set is kept for the same Client object (jose refetches it for an unknown kid or when it is old)', () => {
    const keys = new CachedClientKeys();
    const remote = client({ clientId: 'remote', tokenEndpointAuthMethod: 'private_key_jwt', secretDigest: undefined, jwksUri: 'https://keys.example/jwks' });
    expect(keys.keysOf(remote)).toBe(keys.keysOf(remote));
  });
});
