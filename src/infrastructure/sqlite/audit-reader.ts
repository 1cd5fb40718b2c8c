import type SQLite from 'better-sqlite3';
import type { AuditEntry, AuditFilter, AuditPage, AuditPosition, AuditReader } from '../../application/ports/audit-reader.js';

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

/** A piece of a WHERE clause and its bound values. */
interface Term {
  readonly sql: string;
  readonly values: readonly unknown[];
}

/** How a filter is read: one index, walked once per key, and what that index does not hold. */
interface Access {
  readonly index: string;
  /** Equality terms on the index's leading columns: one walk each, merged (one per event name). */
  readonly walks: readonly Term[];
  /** Filters the index does not hold, checked row by row (so bounded by AUDIT_SCAN_BUDGET). */
  readonly residual: Term | undefined;
}

/**
 * Rows a page may examine beyond what its index selects, when two filters no single index holds
 * are combined (client_id and user_id, or actor and another): about 3 ms on a 1M-row log
 * (docs/audit.md). A page then ends where the scan stopped, with fewer events and a next cursor.
 */
export const AUDIT_SCAN_BUDGET = 10_000;
/**
 * Distinct event names walked one by one at most. Trusty writes about 35 (the code names them,
 * never a caller); a table holding more (edited by hand) is read by time instead, every filter
 * checked within the scan budget.
 */
export const AUDIT_MAX_WALKS = 100;

const COLUMNS = 'id, at_ms, event, client_id, user_id, actor, ip, user_agent, details';
const EVERY_ROW: Term = { sql: '', values: [] };

/**
 * The audit log read back (table audit_log, migrations 0001, 0010, 0015, 0016). Every page costs
 * a bounded number of rows, whatever the table holds: it runs on the server's only connection,
 * so a slow query would stall every request (measured in docs/audit.md; plans checked with
 * EXPLAIN QUERY PLAN in audit-reader.test.ts).
 * - One index is walked in (at_ms, id) order after equality on its leading columns, so the time
 *   range and the cursor are one range read in order and stopped at the page size:
 *   (actor, at_ms) when an actor is given (only management changes have one: few rows), else
 *   (user_id, event, at_ms), else (client_id, event, at_ms), else (event, at_ms), else (at_ms).
 * - Where the index holds the event after the key, each event name is its own walk, merged here
 *   (newest first: a page of each). The names of a prefix (`client.*`), or all of a client's or
 *   user's, are found by skipping through the same index one name at a time (a seek per name).
 *   A range over a prefix read every matching row and sorted them (`token.*`: 947 ms on 1M
 *   rows), and (client_id, at_ms) walked every row of a busy client looking for a rare event.
 * - A filter the index does not hold is checked row by row on at most AUDIT_SCAN_BUDGET rows.
 * - follow reads rows written after an id by the primary key only (NOT INDEXED): new rows are
 *   few, while an index on a frequent event would walk all of its past rows.
 * Statements are prepared once per shape of filter.
 */
export class SqliteAuditReader implements AuditReader {
  private readonly statements = new Map<string, SQLite.Statement>();
  private readonly last: SQLite.Statement<[], number | null>;

  constructor(
    private readonly sqlite: SQLite.Database,
    /** AUDIT_SCAN_BUDGET; smaller in tests. */
    private readonly scanBudget = AUDIT_SCAN_BUDGET,
  ) {
    this.last = sqlite.prepare<[], number | null>('SELECT max(id) FROM audit_log').pluck();
  }

  async newest(filter: AuditFilter, limit: number, before?: AuditPosition): Promise<AuditPage> {
    return this.snapshot(true, filter, limit, before);
  }

  async oldest(filter: AuditFilter, limit: number, after?: AuditPosition): Promise<AuditPage> {
    return this.snapshot(false, filter, limit, after);
  }

  /** One read transaction: the names found and the walks see the same rows, whatever another process writes meanwhile. */
  private readonly snapshot = (newestFirst: boolean, filter: AuditFilter, limit: number, from: AuditPosition | undefined): AuditPage =>
    this.sqlite.transaction(() => this.page(newestFirst, filter, limit, from))();

  async writtenAfter(afterId: number, throughId: number, filter: AuditFilter, limit: number): Promise<AuditEntry[]> {
    // A unary + keeps SQLite off the secondary indexes (see the class comment).
    const terms = [...filterTerms(filter, '+'), { sql: 'id > ? AND id <= ?', values: [afterId, throughId] }];
    return this.rows(`SELECT ${COLUMNS} FROM audit_log NOT INDEXED${where(terms)} ORDER BY id LIMIT ?`, [...valuesOf(terms), limit]).map(toEntry);
  }

  async lastId(): Promise<number> {
    return this.last.get() ?? 0;
  }

  /**
   * Each walk reads at most limit + 1 rows (its share of the budget with a residual filter); the
   * walks then all cover the positions from `from` to the nearest place one of them stopped
   * (`reached`), so the page is their merge up to there.
   */
  private page(newestFirst: boolean, filter: AuditFilter, limit: number, from: AuditPosition | undefined): AuditPage {
    const access = this.access(filter);
    const order = (a: Row, b: Row) => (newestFirst ? -1 : 1) * (a.at_ms - b.at_ms || a.id - b.id);
    const budget = Math.max(limit + 1, Math.floor(this.scanBudget / access.walks.length));
    const rows: Row[] = [];
    let reached: Row | undefined;
    for (const walk of access.walks) {
      const read = this.walk(newestFirst, access, walk, filter, from, limit, budget);
      rows.push(...read.rows);
      if (read.reached !== undefined && (reached === undefined || order(read.reached, reached) < 0)) reached = read.reached;
    }
    const kept = rows.filter((row) => reached === undefined || order(row, reached) <= 0).sort(order);
    if (kept.length > limit) {
      const entries = kept.slice(0, limit).map(toEntry);
      return { entries, next: position(entries.at(-1)!) };
    }
    return { entries: kept.map(toEntry), next: reached === undefined ? null : { atMs: reached.at_ms, id: reached.id } };
  }

  /**
   * One walk of the index: its rows and, when it stopped before the end, where. Every bound is
   * one (at_ms, id) position per side, the tightest: SQLite bounds the index range by only one
   * term per side, and with `at_ms < until` next to the cursor it would start at `until` and read
   * down to the cursor (91 ms a page, deep in a 1M-row log, instead of 0.1).
   */
  private walk(newestFirst: boolean, access: Access, walk: Term, filter: AuditFilter, from: AuditPosition | undefined, limit: number, budget: number): { rows: Row[]; reached?: Row } {
    const order = newestFirst ? 'at_ms DESC, id DESC' : 'at_ms, id';
    // Inclusive lower and exclusive upper positions; ids start at 1, so (t, 0) is "at time t".
    let lower: Bound | undefined = filter.sinceMs === undefined ? undefined : [filter.sinceMs, 0];
    let upper: Bound | undefined = filter.untilMs === undefined ? undefined : [filter.untilMs, 0];
    if (from !== undefined && newestFirst) upper = tighter(upper, [from.atMs, from.id], -1);
    if (from !== undefined && !newestFirst) lower = tighter(lower, [from.atMs, from.id + 1], 1);
    const table = `audit_log INDEXED BY ${access.index}`;
    let reached: Row | undefined;
    let residual: Term[] = [];
    if (access.residual !== undefined) {
      // Where the budget ends, read from the index alone (it holds at_ms and the rowid).
      const range = [walk, ...bounds(lower, upper)];
      reached = this.rows(`SELECT at_ms, id FROM ${table}${where(range)} ORDER BY ${order} LIMIT 1 OFFSET ?`, [...valuesOf(range), budget - 1])[0];
      if (reached !== undefined && newestFirst) lower = tighter(lower, [reached.at_ms, reached.id], 1);
      if (reached !== undefined && !newestFirst) upper = tighter(upper, [reached.at_ms, reached.id + 1], -1);
      residual = [access.residual];
    }
    const terms = [walk, ...bounds(lower, upper), ...residual];
    const rows = this.rows(`SELECT ${COLUMNS} FROM ${table}${where(terms)} ORDER BY ${order} LIMIT ?`, [...valuesOf(terms), limit + 1]);
    if (rows.length === limit + 1) reached = rows.at(-1);
    return { rows, reached };
  }

  /** The index a filter is read by, most selective first (see the class comment). */
  private access(filter: AuditFilter): Access {
    const equal = (column: string, value: unknown): Term => ({ sql: `${column} = ?`, values: [value] });
    if (filter.actor !== undefined) {
      const others = [eventTerm(filter, ''), filter.userId === undefined ? undefined : equal('user_id', filter.userId), filter.clientId === undefined ? undefined : equal('client_id', filter.clientId)];
      return { index: 'audit_log_actor_at', walks: [equal('actor', filter.actor)], residual: and(others) };
    }
    const key = filter.userId !== undefined ? { column: 'user_id', value: filter.userId } : filter.clientId !== undefined ? { column: 'client_id', value: filter.clientId } : undefined;
    if (key === undefined && filter.event === undefined && filter.eventPrefix === undefined) return { index: 'audit_log_at', walks: [EVERY_ROW], residual: undefined };
    const index = key === undefined ? 'audit_log_event_at' : key.column === 'user_id' ? 'audit_log_user_event_at' : 'audit_log_client_event_at';
    const names = filter.event !== undefined ? [filter.event] : this.eventNames(index, key, filter.eventPrefix);
    if (names === undefined) return { index: 'audit_log_at', walks: [EVERY_ROW], residual: and(filterTerms({ ...filter, sinceMs: undefined, untilMs: undefined }, '')) };
    const walks = names.map((name): Term => (key === undefined ? equal('event', name) : { sql: `${key.column} = ? AND event = ?`, values: [key.value, name] }));
    const residual = filter.userId !== undefined && filter.clientId !== undefined ? equal('client_id', filter.clientId) : undefined;
    return { index, walks, residual };
  }

  /**
   * The distinct event names in `index` (under `key`, starting with `prefix`), one seek each;
   * undefined when there are more than AUDIT_MAX_WALKS.
   */
  private eventNames(index: string, key: { column: string; value: string } | undefined, prefix: string | undefined): string[] | undefined {
    const terms: Term[] = key === undefined ? [] : [{ sql: `${key.column} = ?`, values: [key.value] }];
    if (prefix !== undefined) terms.push({ sql: 'event < ?', values: [prefixEnd(prefix)] });
    const names: string[] = [];
    let after: Term = { sql: 'event >= ?', values: [prefix ?? ''] };
    for (;;) {
      const next = this.rows(`SELECT event FROM audit_log INDEXED BY ${index}${where([...terms, after])} ORDER BY event LIMIT 1`, valuesOf([...terms, after]))[0];
      if (next === undefined) return names;
      if (names.length === AUDIT_MAX_WALKS) return undefined;
      names.push(next.event);
      after = { sql: 'event > ?', values: [next.event] };
    }
  }

  private rows(text: string, values: readonly unknown[]): Row[] {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.sqlite.prepare(text);
      this.statements.set(text, statement);
    }
    return statement.all(...values) as Row[];
  }
}

/** A position in (at_ms, id) order. */
type Bound = readonly [atMs: number, id: number];

/** Of a bound and another, the greater (`sign` 1) or the smaller (-1). */
function tighter(bound: Bound | undefined, other: Bound, sign: 1 | -1): Bound {
  if (bound === undefined) return other;
  return sign * (other[0] - bound[0] || other[1] - bound[1]) > 0 ? other : bound;
}

function bounds(lower: Bound | undefined, upper: Bound | undefined): Term[] {
  const terms: Term[] = [];
  if (lower !== undefined) terms.push({ sql: '(at_ms, id) >= (?, ?)', values: lower });
  if (upper !== undefined) terms.push({ sql: '(at_ms, id) < (?, ?)', values: upper });
  return terms;
}

/** The event filter as a term: an exact name, or a range of names for a prefix. */
function eventTerm(filter: AuditFilter, prefix: '' | '+'): Term | undefined {
  if (filter.event !== undefined) return { sql: `${prefix}event = ?`, values: [filter.event] };
  if (filter.eventPrefix !== undefined) return { sql: `${prefix}event >= ? AND ${prefix}event < ?`, values: [filter.eventPrefix, prefixEnd(filter.eventPrefix)] };
  return undefined;
}

/** Every filter as terms; `prefix` '+' keeps SQLite from using an index for them. */
function filterTerms(filter: AuditFilter, prefix: '' | '+'): Term[] {
  const terms: Term[] = [];
  const event = eventTerm(filter, prefix);
  if (event !== undefined) terms.push(event);
  if (filter.clientId !== undefined) terms.push({ sql: `${prefix}client_id = ?`, values: [filter.clientId] });
  if (filter.userId !== undefined) terms.push({ sql: `${prefix}user_id = ?`, values: [filter.userId] });
  if (filter.actor !== undefined) terms.push({ sql: `${prefix}actor = ?`, values: [filter.actor] });
  if (filter.sinceMs !== undefined) terms.push({ sql: `${prefix}at_ms >= ?`, values: [filter.sinceMs] });
  if (filter.untilMs !== undefined) terms.push({ sql: `${prefix}at_ms < ?`, values: [filter.untilMs] });
  return terms;
}

function and(terms: ReadonlyArray<Term | undefined>): Term | undefined {
  const present = terms.filter((term): term is Term => term !== undefined);
  return present.length === 0 ? undefined : { sql: present.map((term) => term.sql).join(' AND '), values: valuesOf(present) };
}

function where(terms: readonly Term[]): string {
  const present = terms.filter((term) => term.sql !== '');
  return present.length === 0 ? '' : ` WHERE ${present.map((term) => term.sql).join(' AND ')}`;
}

function valuesOf(terms: readonly Term[]): unknown[] {
  return terms.flatMap((term) => term.values);
}

/** The smallest string greater than every string starting with `prefix` (its last character + 1). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

function position(entry: AuditPosition): AuditPosition {
  return { atMs: entry.atMs, id: entry.id };
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
