import { describe, expect, it } from 'vitest';
import { client } from '../../../test/unit/fixtures.js';
import type { Client } from '../../domain/client.js';
import { InvalidClient } from '../../protocol/errors.js';
import { sha256 } from '../../protocol/random.js';
import type { ClientKeys } from '../ports/client-keys.js';
import type { ReplayCache } from '../ports/replay-cache.js';
import type { ClientRepository } from '../ports/repositories.js';
import { ClientAuthenticator } from './client-authenticator.js';

/** A rotated secret's grace period and a client's expiry date, at the authenticator (no SQL, no I/O). */
const ISSUER = 'https://op.example';
const NOW = 1_800_000_000;
const NEW = 'new-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const OLD = 'old-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

function authenticator(registered: Client, clock = { now: () => NOW }) {
  const clients = { findById: async (id: string) => (id === registered.clientId ? registered : undefined) } as ClientRepository;
  return new ClientAuthenticator({
    clients,
    keys: {} as ClientKeys,
    replay: {} as ReplayCache,
    clock,
    issuer: ISSUER,
    tokenEndpoint: `${ISSUER}/token`,
  });
}

const basic = (secret: string) => `Basic ${Buffer.from(`app:${secret}`).toString('base64')}`;

async function outcome(promise: Promise<Client>): Promise<string> {
  return promise.then(
    (c) => `ok ${c.clientId}`,
    (error: unknown) => (error instanceof InvalidClient ? `invalid_client: ${error.message}` : String(error)),
  );
}

describe('ClientAuthenticator: secret rotation and expiry', () => {
  const rotated = client({ secretDigest: sha256(NEW), previousSecret: { digest: sha256(OLD), expiresAt: NOW + 60 } });

  it('refuses the previous secret once its grace period ended (at expiresAt exactly)', async () => {
    const clock = { now: () => NOW + 60 };
    expect(await outcome(authenticator(rotated, clock).authenticate(basic(OLD), {}, `${ISSUER}/token`))).toBe('invalid_client: client authentication failed');
    expect(await outcome(authenticator(rotated, clock).authenticate(basic(NEW), {}, `${ISSUER}/token`))).toBe('ok app');
  });

  it('refuses any other secret, within the grace period too', async () => {
    expect(await outcome(authenticator(rotated).authenticate(basic('guess'), {}, `${ISSUER}/token`))).toBe('invalid_client: client authentication failed');
  });

  it('accepts the new secret and, within the grace period, the previous one', async () => {
    expect(await outcome(authenticator(rotated).authenticate(basic(NEW), {}, `${ISSUER}/token`))).toBe('ok app');
    expect(await outcome(authenticator(rotated).authenticate(basic(OLD), {}, `${ISSUER}/token`))).toBe('ok app');
  });

  it('refuses a client past its expiry date, with the right secret, as if unknown', async () => {
    const expiring = client({ secretDigest: sha256(NEW), expiresAt: NOW });
    expect(await outcome(authenticator(expiring).authenticate(basic(NEW), {}, `${ISSUER}/token`))).toBe('invalid_client: client authentication failed');
    expect(await outcome(authenticator(expiring, { now: () => NOW - 1 }).authenticate(basic(NEW), {}, `${ISSUER}/token`))).toBe('ok app');
  });
});
