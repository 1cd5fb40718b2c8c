import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { ControlVersion } from './control-version.js';
import { purgeExpired } from './purge.js';
import { SqliteTokenRevocations } from './token-revocations.js';

/** Revocations: loaded at start, then only the newer rows after a control change, whoever wrote them. */
const NOW = 1_800_000_000;
let dir: string;
let server: Db;
let cli: Db;
let changes: ControlVersion;
let revocations: SqliteTokenRevocations;
let now = NOW;

beforeEach(() => {
  now = NOW;
  dir = mkdtempSync(join(tmpdir(), 'trusty-revocations-'));
  server = openDatabase(join(dir, 'trusty.db'));
  migrate(server.sqlite);
  cli = openDatabase(join(dir, 'trusty.db'));
  changes = new ControlVersion(server.sqlite);
  revocations = SqliteTokenRevocations.open(server, () => now, changes);
});
afterEach(async () => {
  await cli.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const issue = (db: Db, jti: string, owner: { client: string; user?: string }, expiresAt = NOW + 600) =>
  db.sqlite
    .prepare("INSERT INTO issued_tokens (jti, kind, grant_id, client_id, user_id, scope, created_at, expires_at) VALUES (?, 'access_token', 'g', ?, ?, 'openid', 0, ?)")
    .run(jti, owner.client, owner.user ?? null, expiresAt);
const addClient = (db: Db, clientId: string) =>
  db.sqlite.prepare("INSERT INTO clients (client_id, metadata, secret_digest, created_at, updated_at, source) VALUES (?, '{}', NULL, 0, 0, 'api')").run(clientId);
const addUser = (db: Db, id: string) =>
  db.sqlite.prepare("INSERT INTO users (id, username, password_hash, claims, created_at, updated_at, source) VALUES (?, ?, 'x', '{}', 0, 0, 'api')").run(id, id);

describe('SqliteTokenRevocations', () => {
  it('does not see what another process revoked until a control change is noticed, then at once', async () => {
    addUser(cli, 'u-1');
    issue(cli, 'at-1', { client: 'web', user: 'u-1' });
    const other = SqliteTokenRevocations.open(cli, () => now, new ControlVersion(cli.sqlite));
    expect(await other.revokeAllOf({ userId: 'u-1' }, now)).toEqual({ refreshTokens: 0, accessTokens: 1, sessions: 0 });
    expect(revocations.isRevoked('at-1')).toBe(false);
    changes.poll(); // the next request
    expect(revocations.isRevoked('at-1')).toBe(true);
  });

  it('loads only the rows numbered after the last seen, and numbers are never reused after the purge', async () => {
    await revocations.revokeAccessToken('old', NOW + 10, now);
    await revocations.revokeAccessToken('newest', NOW + 20, now);
    // The purge deletes the newest row (expired): a row added later must still be numbered after it.
    now = NOW + 30;
    await purgeExpired(server.kysely, now, { codeRetention: 0, auditRetention: 86400 });
    revocations.forgetExpired(now);
    issue(cli, 'later', { client: 'machine' });
    addClient(cli, 'machine');
    const other = SqliteTokenRevocations.open(cli, () => now, new ControlVersion(cli.sqlite));
    await other.revokeAllOf({ clientId: 'machine' }, now);
    changes.poll();
    expect(revocations.isRevoked('later')).toBe(true);
    expect(revocations.isRevoked('newest')).toBe(false);
    expect(server.sqlite.prepare('SELECT seq, jti FROM revoked_tokens').all()).toEqual([{ seq: 3, jti: 'later' }]);
  });

  it("for a client: refuses its unrecorded tokens issued up to the end of this second (enabled_at = now + 1), and records a change", async () => {
    addClient(server, 'machine');
    server.sqlite.prepare("UPDATE clients SET enabled_at = 5 WHERE client_id = 'machine'").run();
    let noticed = 0;
    changes.onChange(() => noticed++);
    expect(await revocations.revokeAllOf({ clientId: 'machine' }, now)).toEqual({ refreshTokens: 0, accessTokens: 0, sessions: 0 });
    expect(server.sqlite.prepare("SELECT enabled_at FROM clients WHERE client_id = 'machine'").get()).toEqual({ enabled_at: NOW + 1 });
    expect(noticed).toBe(1);
    // Never moved back: a later enabled_at (a client enabled ahead of a slow clock) stays.
    server.sqlite.prepare("UPDATE clients SET enabled_at = ? WHERE client_id = 'machine'").run(NOW + 50);
    await revocations.revokeAllOf({ clientId: 'machine' }, now);
    expect(server.sqlite.prepare("SELECT enabled_at FROM clients WHERE client_id = 'machine'").get()).toEqual({ enabled_at: NOW + 50 });
  });

  it('for a user: refresh tokens that still worked, live access tokens and live sessions; unknown owners are undefined', async () => {
    addUser(server, 'u-1');
    const refresh = server.sqlite.prepare(
      "INSERT INTO refresh_tokens (token_digest, grant_id, client_id, user_id, scope, auth_time, created_at, expires_at, idle_expires_at, rotated_at) VALUES (?, 'g', 'web', 'u-1', 'openid', 0, 0, ?, ?, ?)",
    );
    refresh.run('live', NOW + 100, NOW + 100, null);
    refresh.run('rotated', NOW + 100, NOW + 100, NOW - 5);
    refresh.run('idle', NOW + 100, NOW - 1, null);
    issue(server, 'at-live', { client: 'web', user: 'u-1' });
    issue(server, 'at-expired', { client: 'web', user: 'u-1' }, NOW - 1);
    const session = server.sqlite.prepare("INSERT INTO sessions (id_digest, user_id, auth_time, created_at, expires_at, ended_at, sid) VALUES (?, 'u-1', 0, 0, ?, ?, ?)");
    session.run('s-live', NOW + 100, null, 'sid-live');
    session.run('s-ended', NOW + 100, NOW - 10, 'sid-ended');
    expect(await revocations.revokeAllOf({ userId: 'u-1' }, now)).toEqual({ refreshTokens: 1, accessTokens: 1, sessions: 1 });
    expect(revocations.isRevoked('at-live')).toBe(true);
    expect(server.sqlite.prepare('SELECT token_digest FROM refresh_tokens WHERE revoked_at IS NULL').all()).toEqual([]);
    expect(server.sqlite.prepare('SELECT id_digest, expires_at FROM sessions ORDER BY id_digest').all()).toEqual([
      { id_digest: 's-ended', expires_at: NOW + 100 },
      { id_digest: 's-live', expires_at: NOW },
    ]);
    expect(await revocations.revokeAllOf({ userId: 'nobody' }, now)).toBeUndefined();
    expect(await revocations.revokeAllOf({ clientId: 'nobody' }, now)).toBeUndefined();
  });
});
