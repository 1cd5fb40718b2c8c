import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { client } from '../../../test/unit/fixtures.js';
import { openDatabase, type Db } from '../../infrastructure/db/database.js';
import { migrate } from '../../infrastructure/db/migrate.js';
import { SqliteClientRepository } from '../../infrastructure/sqlite/client-repository.js';
import { SqliteUserRepository } from '../../infrastructure/sqlite/user-repository.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import { seed, type UserSeed } from './seed.js';

/** The seed against the SQLite repositories: what config.yaml declares, drops and declares again. */
const NOW = 1_800_000_000;
let db: Db;
let clients: SqliteClientRepository;
let users: SqliteUserRepository;
let hashes = 0;
const passwords: PasswordHasher = {
  hash: async (password) => (hashes++, `hash:${password}`),
  verify: async (password, hash) => hash === `hash:${password}`,
};
const deps = () => ({ clients, users, passwords });
const alice: UserSeed = { username: 'alice', password: 'alice-password', claims: { name: 'Alice' } };
const bob: UserSeed = { username: 'bob', password: 'bob-password', claims: { name: 'Bob' } };
const web = client({ clientId: 'web', scopes: ['openid', 'web:read'] });
const machine = client({ clientId: 'machine', grantTypes: ['client_credentials'], scopes: ['invoices:read'] });

beforeEach(() => {
  db = openDatabase(':memory:');
  migrate(db.sqlite);
  clients = new SqliteClientRepository(db.kysely, () => NOW);
  users = new SqliteUserRepository(db.kysely, () => NOW);
  hashes = 0;
});
afterEach(() => {
  db.sqlite.close();
});

describe('seed', () => {
  it('creates, then changes nothing on a restart with the same file', async () => {
    const first = await seed({ clients: [web, machine], users: [alice, bob] }, deps());
    expect(first).toEqual({
      clients: { created: 2, updated: 0, unchanged: 0, enabled: 0, disabled: 0 },
      users: { created: 2, updated: 0, unchanged: 0, enabled: 0, disabled: 0 },
      disabled: { clients: [], users: [] },
    });
    const again = await seed({ clients: [web, machine], users: [alice, bob] }, deps());
    expect(again.clients).toEqual({ created: 0, updated: 0, unchanged: 2, enabled: 0, disabled: 0 });
    expect(again.users).toEqual({ created: 0, updated: 0, unchanged: 2, enabled: 0, disabled: 0 });
  });

  it('disables what the file no longer declares, keeping the rows, and reports it', async () => {
    await seed({ clients: [web, machine], users: [alice, bob] }, deps());
    const bobId = (await users.findByUsername('bob'))!.id;
    const report = await seed({ clients: [web], users: [alice] }, deps());
    expect(report).toEqual({
      clients: { created: 0, updated: 0, unchanged: 1, enabled: 0, disabled: 1 },
      users: { created: 0, updated: 0, unchanged: 1, enabled: 0, disabled: 1 },
      disabled: { clients: ['machine'], users: [bobId] },
    });
    // Invisible to the protocol…
    expect(await clients.findById('machine')).toBeUndefined();
    expect((await clients.list()).map((c) => c.clientId)).toEqual(['web']);
    expect(await users.findByUsername('bob')).toBeUndefined();
    expect(await users.findById(bobId)).toBeUndefined();
    // …but kept, owned by the file, and disabled once (a restart disables nothing more).
    expect(db.sqlite.prepare("SELECT source, disabled_at FROM clients WHERE client_id = 'machine'").get()).toEqual({ source: 'config', disabled_at: NOW });
    expect(db.sqlite.prepare('SELECT source, disabled_at FROM users WHERE id = ?').get(bobId)).toEqual({ source: 'config', disabled_at: NOW });
    expect(await users.findByUsername('bob', { includeDisabled: true })).toMatchObject({ id: bobId });
    const again = await seed({ clients: [web], users: [alice] }, deps());
    expect(again.disabled).toEqual({ clients: [], users: [] });
  });

  it('enables what is declared again, with the same sub and without re-hashing an unchanged password', async () => {
    await seed({ clients: [web, machine], users: [alice, bob] }, deps());
    const bobId = (await users.findByUsername('bob'))!.id;
    await seed({ clients: [web], users: [alice] }, deps());
    hashes = 0;
    const report = await seed({ clients: [web, machine], users: [alice, bob] }, deps());
    expect(report.clients).toEqual({ created: 0, updated: 0, unchanged: 1, enabled: 1, disabled: 0 });
    expect(report.users).toEqual({ created: 0, updated: 0, unchanged: 1, enabled: 1, disabled: 0 });
    expect(hashes).toBe(0);
    expect(await clients.findById('machine')).toMatchObject({ clientId: 'machine' });
    expect(await users.findByUsername('bob')).toMatchObject({ id: bobId });
    expect(await users.findById(bobId)).toMatchObject({ username: 'bob' });
  });

  it('never disables a client or user of another source (made through the API): the file does not own them', async () => {
    await seed({ clients: [web], users: [alice] }, deps());
    db.sqlite
      .prepare("INSERT INTO clients (client_id, metadata, secret_digest, created_at, updated_at, source) VALUES ('api-made', ?, NULL, 0, 0, 'api')")
      .run(JSON.stringify({ ...client({ clientId: 'api-made' }), secretDigest: undefined }));
    db.sqlite.prepare("INSERT INTO users (id, username, password_hash, claims, created_at, updated_at, source) VALUES ('u-api', 'api-user', 'x', '{}', 0, 0, 'api')").run();
    const report = await seed({ clients: [web], users: [alice] }, deps());
    expect(report.disabled).toEqual({ clients: [], users: [] });
    expect(await new SqliteClientRepository(db.kysely, () => NOW).findById('api-made')).toMatchObject({ clientId: 'api-made' });
    expect(await users.findById('u-api')).toMatchObject({ username: 'api-user' });
  });

  it('refuses to start when config.yaml declares the username of a user made through the API, and changes nothing', async () => {
    db.sqlite.prepare("INSERT INTO users (id, username, password_hash, claims, created_at, updated_at, source) VALUES ('u-api', 'bob', 'x', '{}', 0, 0, 'api')").run();
    hashes = 0;
    await expect(seed({ clients: [web], users: [alice, bob] }, deps())).rejects.toThrow(
      'config.yaml users[1].username: "bob" is already a user made through the management API; rename it in config.yaml',
    );
    expect(hashes).toBeLessThanOrEqual(1); // alice's at most: bob's password was never checked against the API user's hash
    expect(db.sqlite.prepare("SELECT id, password_hash, source, disabled_at FROM users WHERE username = 'bob'").get()).toEqual({ id: 'u-api', password_hash: 'x', source: 'api', disabled_at: null });
    expect(await users.upsert({ username: 'bob', passwordHash: 'hash:bob-password', claims: {} }, 'new-id', 'config')).toBe('taken');
  });

  it('ends what a disabled client and user were granted: refresh tokens, live access tokens, codes, sessions, consents', async () => {
    await seed({ clients: [web, machine], users: [alice, bob] }, deps());
    const aliceId = (await users.findByUsername('alice'))!.id;
    const bobId = (await users.findByUsername('bob'))!.id;
    const refresh = db.sqlite.prepare(
      "INSERT INTO refresh_tokens (token_digest, grant_id, client_id, user_id, scope, auth_time, created_at, expires_at, idle_expires_at) VALUES (?, ?, ?, ?, 'openid', 0, 0, ?, ?)",
    );
    refresh.run('rt-bob', 'g-bob', 'web', bobId, NOW + 100, NOW + 100);
    refresh.run('rt-alice', 'g-alice', 'web', aliceId, NOW + 100, NOW + 100);
    const issued = db.sqlite.prepare("INSERT INTO issued_tokens (jti, kind, grant_id, client_id, user_id, scope, created_at, expires_at) VALUES (?, 'access_token', ?, ?, ?, 'openid', 0, ?)");
    issued.run('at-bob-live', 'g-bob', 'web', bobId, NOW + 100);
    issued.run('at-bob-expired', 'g-bob', 'web', bobId, NOW - 1);
    issued.run('at-alice', 'g-alice', 'web', aliceId, NOW + 100);
    db.sqlite.prepare("INSERT INTO sessions (id_digest, user_id, auth_time, created_at, expires_at, sid) VALUES ('s-bob', ?, 0, 0, ?, 'sid-bob')").run(bobId, NOW + 100);
    db.sqlite.prepare("INSERT INTO sessions (id_digest, user_id, auth_time, created_at, expires_at, sid) VALUES ('s-alice', ?, 0, 0, ?, 'sid-alice')").run(aliceId, NOW + 100);
    const code = db.sqlite.prepare("INSERT INTO authorization_codes (code_digest, grant_id, client_id, user_id, redirect_uri, scope, code_challenge, auth_time, created_at, expires_at) VALUES (?, ?, ?, ?, 'x', 'openid', 'x', 0, 0, ?)");
    code.run('c-bob', 'g-bob-2', 'web', bobId, NOW + 60);
    code.run('c-machine', 'g-m', 'machine', aliceId, NOW + 60);
    code.run('c-alice', 'g-alice-2', 'web', aliceId, NOW + 60);
    const consent = db.sqlite.prepare("INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES (?, ?, 'openid', 0)");
    consent.run(bobId, 'web');
    consent.run(aliceId, 'web');
    consent.run(aliceId, 'machine');

    await seed({ clients: [web], users: [alice] }, deps());

    expect(db.sqlite.prepare('SELECT token_digest, revoked_at FROM refresh_tokens ORDER BY token_digest').all()).toEqual([
      { token_digest: 'rt-alice', revoked_at: null },
      { token_digest: 'rt-bob', revoked_at: NOW },
    ]);
    expect(db.sqlite.prepare('SELECT jti FROM revoked_tokens').all()).toEqual([{ jti: 'at-bob-live' }]);
    expect(db.sqlite.prepare('SELECT code_digest, expires_at FROM authorization_codes ORDER BY code_digest').all()).toEqual([
      { code_digest: 'c-alice', expires_at: NOW + 60 },
      { code_digest: 'c-bob', expires_at: NOW },
      { code_digest: 'c-machine', expires_at: NOW },
    ]);
    // Expired, not ended: LogoutService.endExpired ends it and tells its clients once the server is up.
    expect(db.sqlite.prepare('SELECT id_digest, expires_at, ended_at FROM sessions ORDER BY id_digest').all()).toEqual([
      { id_digest: 's-alice', expires_at: NOW + 100, ended_at: null },
      { id_digest: 's-bob', expires_at: NOW, ended_at: null },
    ]);
    expect(db.sqlite.prepare('SELECT user_id, client_id FROM consents').all()).toEqual([{ user_id: aliceId, client_id: 'web' }]);
  });
});
