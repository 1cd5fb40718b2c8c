import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { ControlVersion } from './control-version.js';
import { SqliteUserRepository } from './user-repository.js';

/** The user repository's control-plane side, on a SQLite file shared with a second process-like connection. */
const NOW = 1_800_000_000;
let dir: string;
let db: Db;
let other: Db;
let changes: ControlVersion;
let users: SqliteUserRepository;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trusty-users-'));
  db = openDatabase(join(dir, 'trusty.db'));
  migrate(db.sqlite);
  other = openDatabase(join(dir, 'trusty.db'));
  changes = new ControlVersion(db.sqlite);
  users = new SqliteUserRepository(db.kysely, () => NOW, changes);
});
afterEach(async () => {
  await other.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const apiUser = (id: string, username: string) => ({ id, username, passwordHash: `hash-${username}`, claims: { name: username } });

describe('SqliteUserRepository: the control plane side', () => {
  it('refuses a taken username, whatever the source of the user holding it', async () => {
    expect(await users.upsert({ username: 'alice', passwordHash: 'h', claims: {} }, 'u-config', 'config')).toBe('created');
    expect(await users.create(apiUser('u-1', 'alice'))).toBe(false);
    expect(await users.create(apiUser('u-1', 'ada'))).toBe(true);
    expect(await users.create(apiUser('u-2', 'ada'))).toBe(false);
    expect(await users.upsert({ username: 'ada', passwordHash: 'h', claims: {} }, 'u-3', 'config')).toBe('taken');
    expect(await users.findRecord('u-1')).toEqual({ id: 'u-1', username: 'ada', claims: { name: 'ada' }, source: 'api', enabled: true, createdAt: NOW, updatedAt: NOW });
  });

  it('changes only API users: updateClaims, disable, enable and setPassword leave config.yaml users alone', async () => {
    await users.upsert({ username: 'alice', passwordHash: 'h', claims: { name: 'Alice' } }, 'u-config', 'config');
    expect(await users.updateClaims('u-config', () => ({ name: 'Mallory' }))).toBeUndefined();
    expect(await users.disable('u-config')).toBeUndefined();
    expect(await users.setPassword('u-config', 'other')).toBeUndefined();
    expect(db.sqlite.prepare("SELECT claims, password_hash, disabled_at FROM users WHERE id = 'u-config'").get()).toEqual({ claims: '{"name":"Alice"}', password_hash: 'h', disabled_at: null });
  });

  it('disables once, ends what the user had, and answers isDisabled from the refreshed set', async () => {
    await users.create(apiUser('u-1', 'ada'));
    expect(await users.isDisabled('u-1')).toBe(false);
    expect(await users.findById('u-1')).toMatchObject({ username: 'ada' }); // cached now
    db.sqlite.prepare("INSERT INTO refresh_tokens (token_digest, grant_id, client_id, user_id, scope, auth_time, created_at, expires_at, idle_expires_at) VALUES ('rt', 'g', 'web', 'u-1', 'openid', 0, 0, ?, ?)").run(NOW + 100, NOW + 100);
    db.sqlite.prepare("INSERT INTO issued_tokens (jti, kind, grant_id, client_id, user_id, scope, created_at, expires_at) VALUES ('at', 'access_token', 'g', 'web', 'u-1', 'openid', 0, ?)").run(NOW + 100);
    db.sqlite.prepare("INSERT INTO sessions (id_digest, user_id, auth_time, created_at, expires_at, sid) VALUES ('s', 'u-1', 0, 0, ?, 'sid')").run(NOW + 100);
    expect(await users.disable('u-1')).toEqual({ refreshTokens: 1, accessTokens: 1, sessions: 1 });
    expect(await users.disable('u-1')).toBeUndefined();
    expect(await users.isDisabled('u-1')).toBe(true);
    expect(await users.findById('u-1')).toBeUndefined();
    expect(await users.findByUsername('ada')).toBeUndefined();
    expect(db.sqlite.prepare('SELECT jti FROM revoked_tokens').all()).toEqual([{ jti: 'at' }]);
    expect(db.sqlite.prepare('SELECT expires_at, ended_at FROM sessions').get()).toEqual({ expires_at: NOW, ended_at: null });
    expect(await users.enable('u-1')).toBe(true);
    expect(await users.enable('u-1')).toBe(false);
    expect(await users.isDisabled('u-1')).toBe(false);
  });

  it('sees a change another connection committed once ControlVersion.poll notices it', async () => {
    await users.create(apiUser('u-1', 'ada'));
    expect(await users.isDisabled('u-1')).toBe(false);
    expect(await users.findById('u-1')).toMatchObject({ claims: { name: 'ada' } });
    // Another process (the CLI) disables the user and changes its claims.
    const cli = new SqliteUserRepository(other.kysely, () => NOW, new ControlVersion(other.sqlite));
    await cli.updateClaims('u-1', () => ({ name: 'Ada L.' }));
    await cli.disable('u-1');
    expect(await users.isDisabled('u-1')).toBe(false); // not noticed yet: no request polled
    changes.poll();
    expect(await users.isDisabled('u-1')).toBe(true);
    expect(await users.findById('u-1')).toBeUndefined();
  });

  it('updateClaims reads, changes and writes in one transaction: concurrent changes are all kept; a throwing change writes nothing', async () => {
    await users.create(apiUser('u-1', 'ada'));
    const add = (name: string) => users.updateClaims('u-1', (user) => ({ ...user.claims, [name]: true }));
    const changed = await Promise.all([add('a'), add('b'), add('c')]);
    expect(changed.map((c) => Object.keys(c!.after.claims).length)).toEqual([2, 3, 4]);
    expect(changed[2]).toMatchObject({ before: { claims: { name: 'ada', a: true, b: true } }, after: { claims: { name: 'ada', a: true, b: true, c: true } } });
    // Another process's change, committed meanwhile, is what the next change starts from.
    await new SqliteUserRepository(other.kysely, () => NOW, new ControlVersion(other.sqlite)).updateClaims('u-1', (user) => ({ ...user.claims, d: true }));
    expect((await add('e'))!.after.claims).toEqual({ name: 'ada', a: true, b: true, c: true, d: true, e: true });
    await expect(
      users.updateClaims('u-1', () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect((await users.findRecord('u-1'))!.claims).toEqual({ name: 'ada', a: true, b: true, c: true, d: true, e: true });
    expect(db.sqlite.inTransaction).toBe(false);
  });

  it('lists in username order with filters, an exact prefix and a cursor', async () => {
    await users.upsert({ username: 'alice', passwordHash: 'h', claims: {} }, 'c-1', 'config');
    for (const [id, name] of [['a-1', 'ada'], ['a-2', 'ad_min'], ['a-3', 'Adam'], ['a-4', 'bob'], ['a-5', 'adz']] as const) await users.create(apiUser(id, name));
    await users.disable('a-5');
    const names = async (...args: Parameters<SqliteUserRepository['list']>) => (await users.list(...args)).map((u) => u.username);
    expect(await names({}, 10)).toEqual(['Adam', 'ad_min', 'ada', 'adz', 'alice', 'bob']);
    expect(await names({ source: 'config' }, 10)).toEqual(['alice']);
    expect(await names({ enabled: false }, 10)).toEqual(['adz']);
    expect(await names({ usernamePrefix: 'ad' }, 10)).toEqual(['ad_min', 'ada', 'adz']);
    expect(await names({ usernamePrefix: 'ad_' }, 10)).toEqual(['ad_min']); // _ is no wildcard
    expect(await names({ usernamePrefix: 'ad', source: 'api', enabled: true }, 1, 'ad_min')).toEqual(['ada']);
  });
});
