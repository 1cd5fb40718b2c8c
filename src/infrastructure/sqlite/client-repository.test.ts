import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { client } from '../../../test/unit/fixtures.js';
import type { ClientWrite } from '../../application/ports/repositories.js';
import type { Client } from '../../domain/client.js';
import { openDatabase, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { SqliteClientRepository } from './client-repository.js';

/** The client store of the control plane: sources, the cache and its invalidation, paging, grants ended. */
const NOW = 1_800_000_000;
let db: Db;
let repo: SqliteClientRepository;
let now = NOW;
let recorded = 0;
let listeners: Array<() => void> = [];
const changes = {
  record: async () => void recorded++,
  onChange: (listener: () => void) => void listeners.push(listener),
};
const write = (c: Client, over: Partial<ClientWrite> = {}): ClientWrite => ({ client: c, kind: 'client', enabled: true, owner: undefined, description: undefined, ...over });
const machine = (clientId: string, over: Partial<Client> = {}) => client({ clientId, grantTypes: ['client_credentials'], redirectUris: [], ...over });

beforeEach(() => {
  db = openDatabase(':memory:');
  migrate(db.sqlite);
  now = NOW;
  recorded = 0;
  listeners = [];
  repo = new SqliteClientRepository(db.kysely, () => now, changes);
});
afterEach(() => {
  db.sqlite.close();
});

describe('SqliteClientRepository (control plane)', () => {
  it('the seed cannot take a client_id an API client holds (taken, nothing written), nor the API one the file holds', async () => {
    expect(await repo.insert(write(machine('agent', { scopes: ['a'] })), 'api')).toBe(true);
    expect(await repo.upsert(machine('agent', { scopes: ['b'] }), 'config')).toBe('taken');
    expect((await repo.get('agent'))!.client.scopes).toEqual(['a']);
    expect(await repo.upsert(machine('filed'), 'config')).toBe('created');
    expect(await repo.insert(write(machine('filed')), 'api')).toBe(false);
    expect((await repo.get('filed'))!.source).toBe('config');
  });

  it('stamps enabledSince at creation: tokens of a deleted client of the same id stay dead', async () => {
    await repo.insert(write(machine('agent')), 'api');
    expect((await repo.findById('agent'))!.enabledSince).toBe(NOW);
  });

  it('enabling in the second of the disable stamps the next second: a token issued in that second before the disable stays dead', async () => {
    await repo.insert(write(machine('agent')), 'api');
    await repo.modify('agent', (current) => ({ ...current, enabled: false }));
    await repo.modify('agent', (current) => ({ ...current, enabled: true }));
    expect((await repo.findById('agent'))!.enabledSince).toBe(NOW + 1);
    // A later enable is stamped with its own second.
    now = NOW + 5;
    await repo.modify('agent', (current) => ({ ...current, enabled: false }));
    now = NOW + 7;
    await repo.modify('agent', (current) => ({ ...current, enabled: true }));
    expect((await repo.findById('agent'))!.enabledSince).toBe(NOW + 7);
  });

  it('the seed enabling a config client in the second it was disabled stamps the next second too', async () => {
    expect(await repo.upsert(machine('filed'), 'config')).toBe('created');
    expect(await repo.disableAllExcept('config', [])).toEqual(['filed']);
    expect(await repo.upsert(machine('filed'), 'config')).toBe('enabled');
    expect((await repo.findById('filed'))!.enabledSince).toBe(NOW + 1);
  });

  it('an expired client given a later expiry, or none, does not revive the tokens issued before it expired', async () => {
    await repo.insert(write(machine('temp', { expiresAt: NOW + 10 })), 'api');
    await repo.insert(write(machine('live', { expiresAt: NOW + 100 })), 'api');
    now = NOW + 20;
    // Changed while still expired: nothing to revive.
    await repo.modify('temp', (current) => ({ ...current, client: { ...current.client, scopes: ['other'] } }));
    expect((await repo.findById('temp'))!.enabledSince).toBe(NOW);
    await repo.modify('temp', (current) => ({ ...current, client: { ...current.client, expiresAt: undefined } }));
    // Tokens are issued before expires_at only (the authenticator refuses from it on).
    expect((await repo.findById('temp'))!.enabledSince).toBe(NOW + 10);
    // Not expired: an extension changes nothing else.
    await repo.modify('live', (current) => ({ ...current, client: { ...current.client, expiresAt: NOW + 200 } }));
    expect((await repo.findById('live'))!.enabledSince).toBe(NOW);
  });

  it('records a change in every write transaction, not for a no-op; a change listener drops the cache', async () => {
    await repo.insert(write(machine('agent')), 'api');
    expect(recorded).toBe(1);
    expect(await repo.upsert(machine('filed'), 'config')).toBe('created');
    expect(await repo.upsert(machine('filed'), 'config')).toBe('unchanged');
    expect(recorded).toBe(2);
    expect(await repo.findById('agent')).toBeDefined();
    // Another process deletes it (the CLI): the cache serves it until ControlVersion calls the listener.
    db.sqlite.prepare("DELETE FROM clients WHERE client_id = 'agent'").run();
    expect(await repo.findById('agent')).toBeDefined();
    for (const listener of listeners) listener();
    expect(await repo.findById('agent')).toBeUndefined();
  });

  it('keeps the Client object of an unchanged row across a reload (caches keyed by it, the key sets, survive); a changed row gets a new one', async () => {
    const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }] };
    await repo.insert(write(machine('keyed', { tokenEndpointAuthMethod: 'private_key_jwt', secretDigest: undefined, jwks })), 'api');
    await repo.insert(write(machine('other')), 'api');
    const before = (await repo.findById('keyed'))!;
    await repo.modify('other', (current) => ({ ...current, client: { ...current.client, scopes: ['changed'] } }));
    expect(await repo.findById('keyed')).toBe(before);
    await repo.modify('keyed', (current) => ({ ...current, client: { ...current.client, jwks: { keys: [{ ...jwks.keys[0]!, kid: 'k2' }] } } }));
    const after = (await repo.findById('keyed'))!;
    expect(after).not.toBe(before);
    expect(after.jwks!.keys[0]!.kid).toBe('k2');
  });

  it('pages in client_id order with filters: an exact prefix (_ and % are not wildcards), grant type, state, source, kind', async () => {
    await repo.upsert(client({ clientId: 'web' }), 'config');
    for (const id of ['a_1', 'a_2', 'ab', 'a%']) await repo.insert(write(machine(id)), 'api');
    await repo.insert(write(machine('svc'), { kind: 'service_account', enabled: false }), 'api');
    const ids = async (query: Parameters<typeof repo.page>[0]) => (await repo.page(query)).map((r) => r.client.clientId);
    expect(await ids({ limit: 10 })).toEqual(['a%', 'a_1', 'a_2', 'ab', 'svc', 'web']);
    expect(await ids({ limit: 10, idPrefix: 'a_' })).toEqual(['a_1', 'a_2']);
    expect(await ids({ limit: 10, idPrefix: 'a%' })).toEqual(['a%']);
    expect(await ids({ limit: 2, after: 'a_1' })).toEqual(['a_2', 'ab']);
    expect(await ids({ limit: 10, grantType: 'authorization_code' })).toEqual(['web']);
    expect(await ids({ limit: 10, enabled: false })).toEqual(['svc']);
    expect(await ids({ limit: 10, source: 'config' })).toEqual(['web']);
    expect(await ids({ limit: 10, kind: 'service_account' })).toEqual(['svc']);
  });

  it('disabling and deleting end the grants; a throwing change writes nothing', async () => {
    await repo.insert(write(machine('agent')), 'api');
    const refresh = db.sqlite.prepare(
      "INSERT INTO refresh_tokens (token_digest, grant_id, client_id, user_id, scope, auth_time, created_at, expires_at, idle_expires_at) VALUES (?, 'g', 'agent', 'u', 'openid', 0, 0, ?, ?)",
    );
    refresh.run('rt-1', NOW + 100, NOW + 100);
    await expect(repo.modify('agent', () => { throw new Error('no'); })).rejects.toThrow('no');
    expect(db.sqlite.prepare("SELECT revoked_at FROM refresh_tokens WHERE token_digest = 'rt-1'").get()).toEqual({ revoked_at: null });
    await repo.modify('agent', (current) => ({ ...current, enabled: false }));
    expect(db.sqlite.prepare("SELECT revoked_at FROM refresh_tokens WHERE token_digest = 'rt-1'").get()).toEqual({ revoked_at: NOW });
    expect(await repo.findById('agent')).toBeUndefined();
    refresh.run('rt-2', NOW + 100, NOW + 100);
    expect(await repo.delete('agent', () => undefined)).toMatchObject({ client: { clientId: 'agent' }, enabled: false });
    expect(db.sqlite.prepare("SELECT revoked_at FROM refresh_tokens WHERE token_digest = 'rt-2'").get()).toEqual({ revoked_at: NOW });
    expect(await repo.get('agent')).toBeUndefined();
  });

  it('stores the previous secret and the expiry in their columns, not in the metadata', async () => {
    await repo.insert(write(machine('agent', { previousSecret: { digest: 'old', expiresAt: NOW + 5 }, expiresAt: NOW + 10 })), 'api');
    const row = db.sqlite.prepare("SELECT metadata, previous_secret_digest, previous_secret_expires_at, expires_at FROM clients WHERE client_id = 'agent'").get() as Record<string, unknown>;
    expect(row).toMatchObject({ previous_secret_digest: 'old', previous_secret_expires_at: NOW + 5, expires_at: NOW + 10 });
    expect(row.metadata).not.toMatch(/previousSecret|expiresAt|secretDigest/);
    expect(await repo.findById('agent')).toMatchObject({ previousSecret: { digest: 'old', expiresAt: NOW + 5 }, expiresAt: NOW + 10 });
  });
});
