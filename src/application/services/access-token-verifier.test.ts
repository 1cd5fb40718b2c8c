import { generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { client } from '../../../test/unit/fixtures.js';
import type { Client } from '../../domain/client.js';
import type { User } from '../../domain/user.js';
import { InvalidToken } from '../../protocol/errors.js';
import type { KeyStore } from '../ports/key-store.js';
import type { ClientRepository, TokenRevocations, UserRepository } from '../ports/repositories.js';
import { AccessTokenVerifier } from './access-token-verifier.js';

/** A token of a disabled client or user is refused, whether its signature was checked before or not. */
const ISSUER = 'https://op.example';
const NOW = 1_800_000_000;
let keys: KeyStore;
let privateKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  keys = {
    signingKey: () => ({ kid: 'k1', alg: 'ES256', privateKey: pair.privateKey }),
    verificationKey: (kid) => (kid === 'k1' ? { alg: 'ES256', key: pair.publicKey } : undefined),
    jwks: () => ({ keys: [] }),
  };
});

function setup() {
  const enabledClients = new Map<string, Client>([['app', client({ clientId: 'app' })]]);
  const enabledUsers = new Map<string, User>([['user-1', { id: 'user-1', username: 'alice', passwordHash: 'x', claims: {} }]]);
  const clients = { findById: async (id: string) => enabledClients.get(id) } as ClientRepository;
  // Users are never deleted, only disabled: a user not in the map is a disabled one.
  const users = { isDisabled: async (id: string) => !enabledUsers.has(id) } as UserRepository;
  const revocations = { isRevoked: () => false } as unknown as TokenRevocations;
  const verifier = new AccessTokenVerifier(keys, { now: () => NOW }, ISSUER, revocations, { clients, users });
  return { verifier, enabledClients, enabledUsers };
}

const accessToken = (sub: string) =>
  new SignJWT({ client_id: 'app', scope: 'openid' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
    .setIssuer(ISSUER)
    .setAudience(ISSUER)
    .setSubject(sub)
    .setJti(`jti-${sub}`)
    .setIssuedAt(NOW)
    .setExpirationTime(NOW + 600)
    .sign(privateKey);

async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => (error instanceof InvalidToken ? error.message : String(error)),
  );
}

describe('AccessTokenVerifier and disabled owners', () => {
  it('refuses a user token once its user is disabled, on a first check and on a cached one', async () => {
    const { verifier, enabledUsers } = setup();
    const token = await accessToken('user-1');
    expect((await verifier.verify(token)).sub).toBe('user-1');
    enabledUsers.delete('user-1');
    expect(await refusal(verifier.verify(token))).toBe('the user of this access token is disabled');
    expect(await refusal(setup().verifier.verify(await accessToken('user-2')))).toBe('the user of this access token is disabled');
  });

  it('refuses a client_credentials token (sub is the client) and a user token once their client is disabled', async () => {
    const { verifier, enabledClients } = setup();
    const own = await accessToken('app');
    const forUser = await accessToken('user-1');
    expect((await verifier.verify(own, null)).clientId).toBe('app');
    expect((await verifier.verify(forUser)).sub).toBe('user-1');
    enabledClients.delete('app');
    expect(await refusal(verifier.verify(own, null))).toBe('the client of this access token is disabled');
    expect(await refusal(verifier.verify(forUser))).toBe('the client of this access token is disabled');
  });
});
