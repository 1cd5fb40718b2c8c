import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AuditEvent, AuditLog } from '../../application/ports/repositories.js';
import type { Database } from '../db/schema.js';

/** At most this many events wait in memory; beyond it a write is forced. */
const MAX_BUFFERED = 500;
const FLUSH_INTERVAL_MS = 1000;

/**
 * The audit log, written off the request path: events are buffered and written in one
 * transaction every second (or when the buffer fills), and flushed on shutdown.
 */
export class SqliteAuditLog implements AuditLog {
  private buffer: Array<{ at_ms: number; event: string; client_id: string | null; user_id: string | null; ip: string | null; details: string | null }> = [];
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  record(event: AuditEvent): void {
    this.buffer.push({
      at_ms: Date.now(),
      event: event.event,
      client_id: event.clientId ?? null,
      user_id: event.userId ?? null,
      ip: event.ip ?? null,
      details: event.details ? JSON.stringify(event.details) : null,
    });
    if (this.buffer.length >= MAX_BUFFERED) void this.flush();
  }

  flush(): Promise<void> {
    const batch = this.buffer;
    if (batch.length === 0) return this.writing;
    this.buffer = [];
    this.writing = this.writing.then(async () => {
      try {
        await this.db.insertInto('audit_log').values(batch).execute();
      } catch (error) {
        this.log.error({ err: error, lost: batch.length }, 'audit log write failed');
      }
    });
    return this.writing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
