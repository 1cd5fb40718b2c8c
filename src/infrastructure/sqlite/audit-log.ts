import type SQLite from 'better-sqlite3';
import type { Logger } from 'pino';
import type { AuditEvent, AuditLog } from '../../application/ports/repositories.js';

/** At most this many events wait in memory; beyond it a write is forced. */
export const AUDIT_MAX_BUFFERED = 2000;
/**
 * An event is written at most this long after it was recorded. Short on purpose: rows that
 * wait a whole second outlive V8's young generation and pile up as old-space garbage (about
 * 25 MB of peak memory at 8 000 tokens/s, measured with the bench), while 25 ms still groups
 * a busy second's events into a few dozen transactions.
 */
export const AUDIT_FLUSH_DELAY_MS = 25;
/**
 * A User-Agent header is kept to this many characters: enough to tell clients apart, while a
 * caller's 16 KB header (Node's limit) would otherwise be stored with every event it causes.
 */
export const AUDIT_USER_AGENT_LENGTH = 256;

type Row = [
  at_ms: number,
  event: string,
  client_id: string | null,
  user_id: string | null,
  ip: string | null,
  details: string | null,
  actor: string | null,
  user_agent: string | null,
];

/**
 * The audit log, written off the request path: events are buffered and written in one
 * transaction at most AUDIT_FLUSH_DELAY_MS after the first of them (at once when the buffer
 * fills), and flushed on shutdown. No timer runs while nothing waits. One prepared
 * INSERT run per row inside the transaction: on the token endpoint's heartbeat this costs a
 * few microseconds per event, where a query builder compiling a fresh multi-row statement at
 * each flush cost far more.
 */
export class SqliteAuditLog implements AuditLog {
  private buffer: Row[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly writeBatch: (rows: Row[]) => void;
  /** Told of every event as it is recorded (metrics, security log lines): cheap, synchronous, never throwing. */
  private readonly listeners: Array<(event: AuditEvent) => void> = [];

  constructor(
    sqlite: SQLite.Database,
    private readonly log: Logger,
    /** Milliseconds since the epoch (the injected clock, so retention can be tested). */
    private readonly nowMs: () => number = Date.now,
  ) {
    const insert = sqlite.prepare<Row>('INSERT INTO audit_log (at_ms, event, client_id, user_id, ip, details, actor, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.writeBatch = sqlite.transaction((rows: Row[]) => {
      for (const row of rows) insert.run(...row);
    });
  }

  /** Adds a listener called with every event recorded from now on. */
  listen(listener: (event: AuditEvent) => void): void {
    this.listeners.push(listener);
  }

  record(event: AuditEvent): void {
    for (const listener of this.listeners) listener(event);
    this.buffer.push([
      this.nowMs(),
      event.event,
      event.clientId ?? null,
      event.userId ?? null,
      event.ip ?? null,
      event.details ? JSON.stringify(event.details) : null,
      event.actor ?? null,
      event.userAgent === undefined ? null : event.userAgent.slice(0, AUDIT_USER_AGENT_LENGTH),
    ]);
    // Written later, never inside the request that recorded it.
    if (this.buffer.length === AUDIT_MAX_BUFFERED) {
      clearTimeout(this.timer);
      this.timer = setTimeout(this.flushNow, 0);
    } else if (this.timer === undefined) {
      this.timer = setTimeout(this.flushNow, AUDIT_FLUSH_DELAY_MS);
      this.timer.unref(); // close() flushes what waits; a pending write must not hold the process
    }
  }

  private readonly flushNow = (): void => void this.flush();

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = [];
    try {
      this.writeBatch(batch);
    } catch (error) {
      this.log.error({ err: error, lost: batch.length }, 'audit log write failed');
    }
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
