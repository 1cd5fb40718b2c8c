import type SQLite from 'better-sqlite3';
import type { AuditEntry, AuditFilter, AuditPosition, AuditReader } from '../../application/ports/audit-reader.js';

interface Row {
  id: number;
  at_ms: number;
  event: string;
  client_id: string | null;
  user_id: string | null;
  actor: string | null;
  ip: string | null;
  user_agent: string | null;
  details: string | null;
}

type Mode = 'newest' | 'oldest' | 'after';

const COLUMNS = 'id, at_ms, event, client_id, user_id, actor, ip, user_agent, details';

/**
 * The audit log read back (table audit_log, migrations 0001, 0010, 0015). Every query is served
 * by an index, checked with EXPLAIN QUERY PLAN in audit-reader.test.ts:
 * - newest first and oldest first are ordered by (at_ms, id): the indexes (at_ms),
 *   (event, at_ms), (client_id, at_ms), (user_id, at_ms) and (actor, at_ms) end with the rowid,
 *   so an equality filter plus the time range plus the (at_ms, id) cursor is one index range,
 *   read in order and stopped at the page size. An event prefix (`client.*`) is a range over
 *   (event, at_ms): its matches are sorted, which is cheap for the rare management events and
 *   bounded by `since` for frequent ones.
 * - follow reads rows written after an id by the primary key only (NOT INDEXED): new rows are
 *   few, while an index on a frequent event would walk all of its past rows.
 * Statements are prepared once per shape of filter (at most 2^7 per mode).
 */
export class SqliteAuditReader implements AuditReader {
  private readonly statements = new Map<string, SQLite.Statement>();
  private readonly last: SQLite.Statement<[], number | null>;

  constructor(private readonly sqlite: SQLite.Database) {
    this.last = sqlite.prepare<[], number | null>('SELECT max(id) FROM audit_log').pluck();
  }

  async newest(filter: AuditFilter, limit: number, before?: AuditPosition): Promise<AuditEntry[]> {
    return this.read('newest', filter, limit, before ? [before.atMs, before.id] : undefined);
  }

  async oldest(filter: AuditFilter, limit: number, after?: AuditPosition): Promise<AuditEntry[]> {
    return this.read('oldest', filter, limit, after ? [after.atMs, after.id] : undefined);
  }

  async writtenAfter(afterId: number, throughId: number, filter: AuditFilter, limit: number): Promise<AuditEntry[]> {
    return this.read('after', filter, limit, [afterId, throughId]);
  }

  async lastId(): Promise<number> {
    return this.last.get() ?? 0;
  }

  private read(mode: Mode, filter: AuditFilter, limit: number, cursor: number[] | undefined): AuditEntry[] {
    const terms: string[] = [];
    const values: unknown[] = [];
    // In follow mode a unary + keeps SQLite off the secondary indexes (see the class comment).
    const column = (name: string) => (mode === 'after' ? `+${name}` : name);
    const add = (term: string, ...bound: unknown[]) => {
      terms.push(term);
      values.push(...bound);
    };
    if (filter.event !== undefined) add(`${column('event')} = ?`, filter.event);
    if (filter.eventPrefix !== undefined) add(`${column('event')} >= ? AND ${column('event')} < ?`, filter.eventPrefix, prefixEnd(filter.eventPrefix));
    if (filter.clientId !== undefined) add(`${column('client_id')} = ?`, filter.clientId);
    if (filter.userId !== undefined) add(`${column('user_id')} = ?`, filter.userId);
    if (filter.actor !== undefined) add(`${column('actor')} = ?`, filter.actor);
    if (filter.sinceMs !== undefined) add(`${column('at_ms')} >= ?`, filter.sinceMs);
    if (filter.untilMs !== undefined) add(`${column('at_ms')} < ?`, filter.untilMs);
    if (cursor !== undefined) {
      if (mode === 'after') add('id > ? AND id <= ?', ...cursor);
      else add(mode === 'newest' ? '(at_ms, id) < (?, ?)' : '(at_ms, id) > (?, ?)', ...cursor);
    }
    const where = terms.length === 0 ? '' : ` WHERE ${terms.join(' AND ')}`;
    const order = mode === 'newest' ? 'at_ms DESC, id DESC' : mode === 'oldest' ? 'at_ms, id' : 'id';
    const text = `SELECT ${COLUMNS} FROM audit_log${mode === 'after' ? ' NOT INDEXED' : ''}${where} ORDER BY ${order} LIMIT ?`;
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.sqlite.prepare(text);
      this.statements.set(text, statement);
    }
    return (statement.all(...values, limit) as Row[]).map(toEntry);
  }
}

/** The smallest string greater than every string starting with `prefix` (its last character + 1). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

function toEntry(row: Row): AuditEntry {
  return {
    id: row.id,
    atMs: row.at_ms,
    event: row.event,
    clientId: row.client_id,
    userId: row.user_id,
    actor: row.actor,
    ip: row.ip,
    userAgent: row.user_agent,
    details: row.details === null ? null : parseDetails(row.details),
  };
}

function parseDetails(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    // Written by this code as JSON; anything else (a hand edit) is shown as text rather than failing the page.
    return { unparsed: text };
  }
}
