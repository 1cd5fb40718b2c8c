import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { Database } from './schema.js';

export interface Db {
  readonly kysely: Kysely<Database>;
  readonly sqlite: SQLite.Database;
  close(): Promise<void>;
}

/** SQLite's page cache per connection, KiB. */
export const PAGE_CACHE_KIB = 2048;
/** Prepared statements kept per connection, by SQL text; the oldest goes first beyond this. */
export const STATEMENT_CACHE_SIZE = 256;

/** The database holds private signing keys and password hashes: its files are the owner's alone. */
export const FILE_MODE = 0o600;
/** A folder we create for it likewise (an existing one is left as the operator set it). */
export const FOLDER_MODE = 0o700;

/**
 * Creates the database file readable and writable by its owner only, before SQLite opens it:
 * SQLite creates the -wal and -shm files with the mode of the database file. A file an older
 * version created with the umask's mode is narrowed too, with its -wal and -shm.
 */
function restrictFiles(path: string): void {
  makeFolders(dirname(path));
  closeSync(openSync(path, 'a', FILE_MODE));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, FILE_MODE);
  }
}

/** Folders are created this many levels deep at most. */
const MAX_NEW_FOLDERS = 32;

/**
 * `mkdir -p`, one level at a time: node's recursive mkdir loops for ever where a parent exists
 * but refuses children with ENOENT (under /proc), and a server that spins at start helps no one.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let current = dir; !existsSync(current) && missing.length < MAX_NEW_FOLDERS; current = dirname(current)) {
    missing.push(current);
    if (dirname(current) === current) break;
  }
  for (const folder of missing.reverse()) mkdirSync(folder, { mode: FOLDER_MODE });
}

/** The database file cannot be opened: the message names the setting and the path (one line). */
export class DatabaseOpenError extends Error {
  override readonly name = 'DatabaseOpenError';
}

/** Opens the SQLite file (creating it and its folder, owner only) in WAL mode with a busy timeout. */
export function openDatabase(path: string): Db {
  let sqlite: SQLite.Database;
  try {
    if (path !== ':memory:') restrictFiles(path);
    sqlite = new SQLite(path);
    sqlite.pragma('journal_mode = WAL');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new DatabaseOpenError(`cannot open the database ${path} (database.path, or DATABASE_PATH): ${reason}`);
  }
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL'); // safe with WAL: a crash loses at most the last commits, never integrity
  sqlite.pragma('foreign_keys = ON');
  // better-sqlite3 builds SQLite with a 16 MB page cache; the working set (clients, codes,
  // sessions, the tail of the audit log) fits in SQLite's own default of 2 MB, and the audit
  // log's appends would otherwise fill all 16 MB with pages never read again (bench: −9 MB peak).
  sqlite.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  let closed = false;
  return {
    kysely,
    sqlite,
    async close() {
      if (closed) return;
      closed = true;
      await kysely.destroy(); // closes the better-sqlite3 handle too
    },
  };
}

/**
 * Kysely prepares every query it runs afresh; SQLite then parses and plans the same SQL text
 * again and again (a tenth of the CPU of a code flow, measured with the bench). Statements
 * are kept by their SQL text instead: a query built again with the same shape reuses the plan.
 * Only kysely's run/all paths are used; a streaming query (iterate) would need its own statement.
 */
export function withStatementCache(sqlite: SQLite.Database, size = STATEMENT_CACHE_SIZE): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = sqlite.prepare(sql);
        if (statements.size >= size) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
