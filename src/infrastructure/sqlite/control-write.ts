import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** The control-version counter (ControlVersion) as a repository sees it. */
export interface ChangeRecorder {
  /** Increments the counter inside the caller's transaction (other processes drop their caches). */
  record(trx: Kysely<Database>): Promise<void>;
  onChange(listener: () => void): void;
}

/**
 * BEGIN IMMEDIATE takes the write lock before the first read (waiting up to the busy timeout),
 * so what the transaction reads is what it writes over: kysely's transactions begin DEFERRED,
 * and a read-then-write one fails with SQLITE_BUSY when another process (the CLI, another
 * server) wrote in between.
 */
export async function immediate<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (connection) => {
    await sql`BEGIN IMMEDIATE`.execute(connection);
    try {
      const result = await work(connection);
      await sql`COMMIT`.execute(connection);
      return result;
    } catch (error) {
      // Fails harmlessly when SQLite has already rolled back.
      await sql`ROLLBACK`.execute(connection).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * A control-plane write: `work` in an IMMEDIATE transaction; when `changed` says it wrote
 * something, the change is recorded in the same transaction (every process drops its caches)
 * and `invalidate` runs again after the commit (a read that ran meanwhile may have cached the
 * row as it was).
 */
export async function controlWrite<T>(
  db: Kysely<Database>,
  changes: ChangeRecorder | undefined,
  work: (trx: Kysely<Database>) => Promise<T>,
  changed: (result: T) => boolean,
  invalidate: () => void,
): Promise<T> {
  const result = await immediate(db, async (trx) => {
    const result = await work(trx);
    if (changed(result)) await changes?.record(trx);
    return result;
  });
  if (changed(result)) invalidate();
  return result;
}
