import type SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { ControlChanges } from '../../application/ports/control-changes.js';
import type { Database } from '../db/schema.js';

/**
 * Requests poll the database at most this often. `PRAGMA data_version` opens a read transaction
 * (file locks: a few microseconds, measured, which the token endpoint would pay on every request);
 * once per millisecond costs at most a few milliseconds of CPU per second under any load, and a
 * change made elsewhere (the CLI takes far longer than this to commit and exit) is still seen by
 * the next request.
 */
export const CONTROL_POLL_INTERVAL_MS = 1;

/**
 * The control-version counter (migration 0010), which every control-plane write increments in its
 * own transaction. `poll()` runs on every request: `PRAGMA data_version` changes only when another
 * connection committed (no table read); only then is the counter read, and only when it moved are
 * the caches dropped. A change made in this process runs the listeners at once.
 */
export class ControlVersion implements ControlChanges {
  private readonly listeners: Array<() => void> = [];
  private readonly foreignListeners: Array<() => void> = [];
  private readonly dataVersion: SQLite.Statement<[], number>;
  private readonly counter: SQLite.Statement<[], number>;
  private lastDataVersion: number;
  private lastCounter: number;
  private lastPollMs = 0;

  constructor(sqlite: SQLite.Database) {
    this.dataVersion = sqlite.prepare<[], number>('PRAGMA data_version').pluck();
    this.counter = sqlite.prepare<[], number>('SELECT version FROM control_version WHERE id = 1').pluck();
    this.lastDataVersion = this.dataVersion.get() ?? 0;
    this.lastCounter = this.counter.get() ?? 0;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Runs `listener` whenever another connection committed anything (found by the next poll):
   * for state whose own writes do not go through `record` — a revocation at /revoke on another
   * server on the file — and that can tell cheaply what is new (revoked_tokens.seq).
   */
  onForeignWrite(listener: () => void): void {
    this.foreignListeners.push(listener);
  }

  /** Increments the counter inside the caller's transaction, then drops this process's caches. */
  async record(trx: Kysely<Database>): Promise<void> {
    await trx.updateTable('control_version').set({ version: sql<number>`version + 1` }).where('id', '=', 1).execute();
    this.notify();
  }

  /** Notices a change another connection committed (called on every request). */
  poll(): void {
    const nowMs = Date.now();
    if (nowMs - this.lastPollMs < CONTROL_POLL_INTERVAL_MS) return;
    this.lastPollMs = nowMs;
    const dataVersion = this.dataVersion.get() ?? 0;
    if (dataVersion === this.lastDataVersion) return;
    this.lastDataVersion = dataVersion;
    for (const listener of this.foreignListeners) listener();
    const counter = this.counter.get() ?? 0;
    if (counter === this.lastCounter) return;
    this.lastCounter = counter;
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
