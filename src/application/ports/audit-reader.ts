/** One audit event as stored (src/application/ports/repositories.ts AuditEvent, once written). */
export interface AuditEntry {
  /** Increases with every event written: the follow cursor. */
  readonly id: number;
  /** Milliseconds since the epoch. */
  readonly atMs: number;
  readonly event: string;
  readonly clientId: string | null;
  readonly userId: string | null;
  readonly actor: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly details: Record<string, unknown> | null;
}

/** Every member narrows; all of them apply at once. */
export interface AuditFilter {
  /** At or after (ms). */
  readonly sinceMs?: number | undefined;
  /** Before (ms). */
  readonly untilMs?: number | undefined;
  /** Exact event name. */
  readonly event?: string | undefined;
  /** Event names starting with this (`client.` for `client.*`). */
  readonly eventPrefix?: string | undefined;
  readonly clientId?: string | undefined;
  readonly userId?: string | undefined;
  readonly actor?: string | undefined;
}

/** A position in (at, id) order, the order the audit log is read in. */
export interface AuditPosition {
  readonly atMs: number;
  readonly id: number;
}

/**
 * A page of the audit log. `next` is where to read on from (strictly past it), or null when
 * nothing more matches. A page may hold fewer events than asked, even none, and still have a
 * `next`: the reader examined as many rows as one page may cost and stopped there.
 */
export interface AuditPage {
  readonly entries: AuditEntry[];
  readonly next: AuditPosition | null;
}

/**
 * Reads the audit log. Events are ordered by time, then by id (ids break ties); every read is
 * one page whose cost is bounded whatever the table holds, so no caller ever holds the whole
 * table and no query holds the database for long.
 */
export interface AuditReader {
  /** Newest first, strictly before `before` when given. */
  newest(filter: AuditFilter, limit: number, before?: AuditPosition): Promise<AuditPage>;
  /** Oldest first, strictly after `after` when given (export). */
  oldest(filter: AuditFilter, limit: number, after?: AuditPosition): Promise<AuditPage>;
  /**
   * Written after event `afterId` and up to `throughId`, in the order written (follow). The upper
   * bound lets a follower move past rows its filter skips instead of reading them again.
   */
  writtenAfter(afterId: number, throughId: number, filter: AuditFilter, limit: number): Promise<AuditEntry[]>;
  /** The id of the last event written, 0 when none. */
  lastId(): Promise<number>;
}
