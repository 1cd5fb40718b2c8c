import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { SqliteLoginLockoutStore } from './login-lockouts.js';

/** The login_lockouts table, seen by a second connection as the CLI (another process) would. */
let dir: string;
let db: Db;
let other: Db;
let store: SqliteLoginLockoutStore;
let cli: SqliteLoginLockoutStore;
const T = 1_800_000_000_000;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trusty-lockouts-'));
  db = openDatabase(join(dir, 'trusty.db'));
  migrate(db.sqlite);
  other = openDatabase(join(dir, 'trusty.db'));
  for (const id of ['u1', 'u2', 'u3']) {
    db.sqlite.prepare("INSERT INTO users (id, username, password_hash, claims, created_at, updated_at) VALUES (?, ?, 'h', '{}', 0, 0)").run(id, `name-${id}`);
  }
  store = new SqliteLoginLockoutStore(db.kysely);
  cli = new SqliteLoginLockoutStore(other.kysely);
});
afterEach(async () => {
  await other.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteLoginLockoutStore', () => {
  it('stores, reads back and deletes a state; another connection sees each change at once', async () => {
    const locked = { failures: 10, lastFailureAt: T, locks: 1, lockedUntil: T + 900_000 };
    expect(await store.update('u1', () => ({ failures: 1, lastFailureAt: T - 5, locks: 0, lockedUntil: undefined }))).toEqual({ failures: 1, lastFailureAt: T - 5, locks: 0, lockedUntil: undefined });
    expect(await store.update('u1', (current) => ({ ...current!, ...locked }))).toEqual(locked);
    expect(await cli.find('u1')).toEqual(locked);
    expect(await cli.clear('u1')).toEqual(locked);
    expect(await store.find('u1')).toBeUndefined();
    expect(await store.clear('u1')).toBeUndefined();
  });

  it('keeps the locks in a row and the end of a lock that passed (the 24 h of quiet count from it)', async () => {
    const third = { failures: 12, lastFailureAt: T, locks: 3, lockedUntil: T + 3_600_000 };
    await store.update('u1', () => third);
    expect(await cli.find('u1')).toEqual(third);
    expect((await cli.findMany(['u1'])).get('u1')).toEqual(third);
    expect(db.sqlite.prepare("SELECT failures, locks, locked_until_ms FROM login_lockouts WHERE user_id = 'u1'").get()).toEqual({ failures: 12, locks: 3, locked_until_ms: T + 3_600_000 });
    expect(() => db.sqlite.prepare("UPDATE login_lockouts SET locks = -1 WHERE user_id = 'u1'").run()).toThrow(/CHECK constraint failed/);
  });

  it('applies concurrent updates one after the other (none lost)', async () => {
    // One connection: a second one in the same process would wait for the lock synchronously
    // (better-sqlite3), blocking the event loop that would release it; processes just wait.
    const increment = (s: { failures: number } | undefined) => ({ failures: (s?.failures ?? 0) + 1, lastFailureAt: T, locks: 0, lockedUntil: undefined });
    await Promise.all([...Array(20)].map(() => store.update('u2', increment)));
    expect((await cli.find('u2'))?.failures).toBe(20);
  });

  it('writes nothing when the change returns the state it was given; deletes on undefined', async () => {
    await store.update('u1', () => ({ failures: 3, lastFailureAt: T, locks: 0, lockedUntil: undefined }));
    const before = db.sqlite.prepare('PRAGMA data_version').get();
    expect(await cli.update('u1', (current) => current)).toEqual({ failures: 3, lastFailureAt: T, locks: 0, lockedUntil: undefined });
    expect(db.sqlite.prepare('PRAGMA data_version').get()).toEqual(before);
    expect(await store.update('u1', () => undefined)).toBeUndefined();
    expect(await cli.find('u1')).toBeUndefined();
  });

  it('reads a page of users at once, and forgets a deleted user', async () => {
    await store.update('u1', () => ({ failures: 2, lastFailureAt: T, locks: 0, lockedUntil: undefined }));
    await store.update('u3', () => ({ failures: 10, lastFailureAt: T, locks: 1, lockedUntil: T + 1 }));
    const states = await store.findMany(['u1', 'u2', 'u3']);
    expect([...states.keys()].sort()).toEqual(['u1', 'u3']);
    expect(await store.findMany([])).toEqual(new Map());
    db.sqlite.prepare("DELETE FROM users WHERE id = 'u3'").run();
    expect(await store.find('u3')).toBeUndefined();
  });
});
