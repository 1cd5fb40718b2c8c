import type SQLite from 'better-sqlite3';
import type { ReplayJournal } from '../cache/memory-replay-cache.js';

/**
 * The replay_journal table (migration 0008): what the memory replay cache must not forget on
 * restart. Synchronous better-sqlite3 statements, so an entry is committed before the request
 * that brought it is answered; written only for values whose anchor was in the future when
 * accepted, never on a synced client's path.
 */
export class SqliteReplayJournal implements ReplayJournal {
  private readonly insert: SQLite.Statement<[number, number, number]>;
  private readonly select: SQLite.Statement<[number], { digest: number; expires_at: number }>;
  private readonly purge: SQLite.Statement<[number]>;

  constructor(
    sqlite: SQLite.Database,
    private readonly now: () => number,
  ) {
    // An expired row with the same digest is replaced; a live one means the value was used.
    this.insert = sqlite.prepare(
      'INSERT INTO replay_journal (digest, expires_at) VALUES (?, ?) ON CONFLICT (digest) DO UPDATE SET expires_at = excluded.expires_at WHERE replay_journal.expires_at <= ?',
    );
    this.select = sqlite.prepare('SELECT digest, expires_at FROM replay_journal WHERE expires_at > ?');
    this.purge = sqlite.prepare('DELETE FROM replay_journal WHERE expires_at <= ?');
  }

  save(digest: number, expiresAt: number): boolean {
    return this.insert.run(digest, expiresAt, this.now()).changes > 0;
  }

  live(now: number): { digest: number; expiresAt: number }[] {
    return this.select.all(now).map((row) => ({ digest: row.digest, expiresAt: row.expires_at }));
  }

  forgetExpired(now: number): number {
    return this.purge.run(now).changes;
  }
}
