import type SQLite from 'better-sqlite3';
import type { ReplayWatermark } from '../cache/memory-replay-cache.js';

/**
 * The replay_watermark row (migration 0009): the latest anchor (iat) of a single-use value
 * accepted while it was still in the future (src/protocol/replay-window.ts). Synchronous
 * better-sqlite3 statements, so it is committed before the request that raised it is answered;
 * the memory cache writes only when an anchor passes the last one written (at most once a
 * second: anchors are whole seconds at most 10 s ahead of the clock).
 */
export class SqliteReplayWatermark implements ReplayWatermark {
  private readonly upsert: SQLite.Statement<[number]>;
  private readonly select: SQLite.Statement<[], { anchor: number }>;

  constructor(sqlite: SQLite.Database) {
    // max(): another process on the same file may have written a later one.
    this.upsert = sqlite.prepare('INSERT INTO replay_watermark (id, anchor) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET anchor = max(anchor, excluded.anchor)');
    this.select = sqlite.prepare('SELECT anchor FROM replay_watermark WHERE id = 1');
  }

  read(): number {
    return this.select.get()?.anchor ?? -Infinity;
  }

  raise(anchor: number): void {
    this.upsert.run(anchor);
  }
}
