import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseOpenError, FILE_MODE, FOLDER_MODE, openDatabase, PAGE_CACHE_KIB, withStatementCache } from './database.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('openDatabase', () => {
  it('opens the file in WAL mode with foreign keys and a bounded page cache, and runs kysely queries on cached statements', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trusty-db-'));
    dirs.push(dir);
    const db = openDatabase(join(dir, 'nested', 'trusty.db'));
    const prepared: string[] = [];
    const prepare = db.sqlite.prepare.bind(db.sqlite);
    db.sqlite.prepare = ((sql: string) => (prepared.push(sql), prepare(sql))) as typeof db.sqlite.prepare;
    expect(db.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.sqlite.pragma('cache_size', { simple: true })).toBe(-PAGE_CACHE_KIB);
    db.sqlite.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    const kysely = db.kysely as unknown as import('kysely').Kysely<{ t: { id: number; v: string } }>;
    for (const v of ['a', 'b', 'c']) await kysely.insertInto('t').values({ id: v.charCodeAt(0), v }).execute();
    const rows = await kysely.selectFrom('t').select(['v']).where('id', '>', 97).orderBy('id').execute();
    expect(rows).toEqual([{ v: 'b' }, { v: 'c' }]);
    // Three inserts of one shape, one select: two statements prepared, not four.
    expect(prepared.filter((sql) => !/^(PRAGMA|CREATE)/i.test(sql))).toEqual([expect.stringMatching(/^insert into "t"/), expect.stringMatching(/^select "v" from "t"/)]);
    // A transaction (BEGIN/COMMIT through the same cache) and a failed one that rolls back.
    await kysely.transaction().execute(async (trx) => trx.insertInto('t').values({ id: 1, v: 'x' }).execute());
    await expect(kysely.transaction().execute(async (trx) => trx.insertInto('t').values({ id: 1, v: 'dup' }).execute())).rejects.toThrow(/UNIQUE/);
    expect(await kysely.selectFrom('t').select(['v']).where('id', '=', 1).execute()).toEqual([{ v: 'x' }]);
    await db.close();
  });
});

describe('a database that cannot be opened', () => {
  it.each([
    // Node's recursive mkdir loops for ever here (ENOENT from a parent that exists).
    ['/proc/trusty-test/trusty.db', 'ENOENT'],
    ['/dev/null/trusty.db', 'ENOTDIR'],
  ])('%s: one line naming the setting and the path, at once', (path, code) => {
    expect(() => openDatabase(path)).toThrow(new DatabaseOpenError(`cannot open the database ${path} (database.path, or DATABASE_PATH): ${code}`));
  });
});

describe('database file modes', () => {
  const modeOf = (path: string) => statSync(path).mode & 0o777;

  it('creates the database, its -wal and -shm readable by their owner only, even under a permissive umask', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trusty-db-'));
    dirs.push(dir);
    const path = join(dir, 'data', 'trusty.db');
    const umask = process.umask(0);
    try {
      const db = openDatabase(path);
      db.sqlite.exec('CREATE TABLE t (v TEXT); INSERT INTO t VALUES (1)');
      expect([modeOf(path), modeOf(`${path}-wal`), modeOf(`${path}-shm`)]).toEqual([FILE_MODE, FILE_MODE, FILE_MODE]);
      expect(modeOf(join(dir, 'data'))).toBe(FOLDER_MODE);
      await db.close();
    } finally {
      process.umask(umask);
    }
  });

  it('narrows the files of a database created readable by others, and leaves an existing folder alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trusty-db-'));
    dirs.push(dir);
    chmodSync(dir, 0o755);
    const path = join(dir, 'trusty.db');
    // An older version's database, still open (its -wal and -shm exist), with the umask's modes.
    const older = new SQLite(path);
    older.pragma('journal_mode = WAL');
    older.exec('CREATE TABLE t (v TEXT); INSERT INTO t VALUES (1)');
    for (const file of [path, `${path}-wal`, `${path}-shm`]) chmodSync(file, 0o644);
    const db = openDatabase(path);
    expect([modeOf(path), modeOf(`${path}-wal`), modeOf(`${path}-shm`)]).toEqual([FILE_MODE, FILE_MODE, FILE_MODE]);
    expect(db.sqlite.prepare('SELECT v FROM t').pluck().get()).toBe('1');
    expect(modeOf(dir)).toBe(0o755);
    older.close();
    await db.close();
  });
});

describe('withStatementCache', () => {
  it('prepares each SQL text once, and forgets the oldest beyond its size', () => {
    const sqlite = new SQLite(':memory:');
    let prepared = 0;
    const counting = new Proxy(sqlite, {
      get: (target, key) => (key === 'prepare' ? (sql: string) => (prepared++, target.prepare(sql)) : Reflect.get(target, key, target)),
    });
    const cached = withStatementCache(counting, 2);
    const one = cached.prepare('SELECT 1');
    expect(cached.prepare('SELECT 1')).toBe(one);
    cached.prepare('SELECT 2');
    expect(prepared).toBe(2);
    cached.prepare('SELECT 3'); // evicts SELECT 1
    expect(cached.prepare('SELECT 2')).toBeDefined();
    expect(prepared).toBe(3);
    expect(cached.prepare('SELECT 1')).not.toBe(one);
    expect(prepared).toBe(4);
    expect(cached.prepare('SELECT 1').all([])).toEqual([{ 1: 1 }]);
    cached.close();
    expect(sqlite.open).toBe(false);
  });
});
