import type { AuditEntry, AuditFilter, AuditPosition, AuditReader } from '../ports/audit-reader.js';
import type { Clock } from '../ports/clock.js';
import type { AuditLog } from '../ports/repositories.js';
import { InvalidField } from './errors.js';

/** A page of the audit API: 1–200 events, 50 unless asked. */
export const AUDIT_PAGE_MAX = 200;
export const AUDIT_PAGE_DEFAULT = 50;
/** Events read per query by export and follow: bounded memory whatever the table holds. */
export const AUDIT_READ_BATCH = 500;
/** Filter values longer than this are refused (client ids, user ids and actors are shorter). */
export const AUDIT_FILTER_MAX_LENGTH = 256;
/** `tail` reads at most this many pages to find its events (a page may hold few: AuditPage). */
export const AUDIT_TAIL_PAGES = 10;

/** What to read: every member narrows. Wire names in the API are snake_case (client_id, user_id). */
export interface AuditSearch {
  /** ISO 8601 date or date-time, epoch milliseconds, or a duration back from now (`24h`, `7d`). */
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  /** An event name (`token.issued`) or a prefix ending in `.*` (`client.*`). */
  readonly event?: string | undefined;
  readonly clientId?: string | undefined;
  readonly userId?: string | undefined;
  readonly actor?: string | undefined;
}

/** One event as the API and the CLI show it. */
export interface AuditEntryView {
  readonly id: number;
  readonly at: string;
  readonly event: string;
  readonly client_id: string | null;
  readonly user_id: string | null;
  readonly actor: string | null;
  readonly ip: string | null;
  readonly user_agent: string | null;
  readonly details: Record<string, unknown> | null;
}

export function auditEntryView(entry: AuditEntry): AuditEntryView {
  return {
    id: entry.id,
    at: new Date(entry.atMs).toISOString(),
    event: entry.event,
    client_id: entry.clientId,
    user_id: entry.userId,
    actor: entry.actor,
    ip: entry.ip,
    user_agent: entry.userAgent,
    details: entry.details,
  };
}

/**
 * Reading the audit log: the management API's GET /admin/v1/audit and `trusty audit tail|export`.
 * Events this process recorded but has not written yet (src/infrastructure/sqlite/audit-log.ts
 * buffers them for up to 25 ms) are written first, so a change is visible to the next read.
 */
export class AuditQuery {
  constructor(
    private readonly reader: AuditReader,
    private readonly log: AuditLog,
    private readonly clock: Clock,
  ) {}

  /**
   * Newest first, one page; `cursor` is the previous page's nextCursor. A page may hold fewer
   * events than `limit`, even none, and still have a nextCursor: its cost is bounded (AuditPage).
   */
  async list(search: AuditSearch, page: { readonly limit?: number | undefined; readonly cursor?: string | undefined } = {}): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const limit = page.limit ?? AUDIT_PAGE_DEFAULT;
    if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_PAGE_MAX) throw new InvalidField('limit', `must be an integer from 1 to ${AUDIT_PAGE_MAX}`);
    const filter = this.filterOf(search);
    const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    await this.log.flush();
    const { entries, next } = await this.reader.newest(filter, limit, before);
    return { items: entries, nextCursor: next === null ? null : encodeCursor(next) };
  }

  /** The last `count` events (1–200), oldest first, and where to follow from. */
  async tail(search: AuditSearch, count: number): Promise<{ entries: AuditEntry[]; lastId: number }> {
    if (!Number.isInteger(count) || count < 1 || count > AUDIT_PAGE_MAX) throw new InvalidField('count', `must be an integer from 1 to ${AUDIT_PAGE_MAX}`);
    const filter = this.filterOf(search);
    await this.log.flush();
    const lastId = await this.reader.lastId();
    const entries: AuditEntry[] = [];
    let before: AuditPosition | null | undefined;
    for (let pages = 0; pages < AUDIT_TAIL_PAGES && entries.length < count && before !== null; pages++) {
      const page = await this.reader.newest(filter, count - entries.length, before);
      // Anything written after lastId is left to follow(), so nothing is shown twice.
      entries.push(...page.entries.filter((entry) => entry.id <= lastId));
      before = page.next;
    }
    return { entries: entries.reverse(), lastId };
  }

  /** Events written after `afterId`, in the order written, and the id to follow from next. */
  async follow(search: AuditSearch, afterId: number): Promise<{ entries: AuditEntry[]; lastId: number }> {
    const filter = this.filterOf(search);
    await this.log.flush();
    const throughId = await this.reader.lastId();
    if (throughId <= afterId) return { entries: [], lastId: afterId };
    const entries = await this.reader.writtenAfter(afterId, throughId, filter, AUDIT_READ_BATCH);
    // A full batch may leave matches behind: continue after it; otherwise everything up to throughId was seen.
    return { entries, lastId: entries.length === AUDIT_READ_BATCH ? entries[entries.length - 1]!.id : throughId };
  }

  /** Every matching event, oldest first, read AUDIT_READ_BATCH at a time (export to a SIEM). */
  async *export(search: AuditSearch): AsyncGenerator<AuditEntry> {
    const filter = this.filterOf(search);
    await this.log.flush();
    let after: AuditPosition | null | undefined;
    while (after !== null) {
      const page = await this.reader.oldest(filter, AUDIT_READ_BATCH, after);
      yield* page.entries;
      after = page.next;
    }
  }

  /** Validates a search (an InvalidField names the wrong one) and turns it into a filter. */
  private filterOf(search: AuditSearch): AuditFilter {
    const nowMs = this.clock.now() * 1000;
    const sinceMs = search.since === undefined ? undefined : parseInstant(search.since, 'since', nowMs);
    const untilMs = search.until === undefined ? undefined : parseInstant(search.until, 'until', nowMs);
    if (sinceMs !== undefined && untilMs !== undefined && untilMs <= sinceMs) throw new InvalidField('until', 'must be later than since');
    const event = search.event === undefined ? {} : parseEvent(search.event);
    return {
      sinceMs,
      untilMs,
      ...event,
      clientId: bounded(search.clientId, 'client_id'),
      userId: bounded(search.userId, 'user_id'),
      actor: bounded(search.actor, 'actor'),
    };
  }
}

const DURATION = /^(\d{1,6})([smhd])$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** ISO 8601 as RFC 3339 writes it, with a zone; or a date alone (midnight UTC). */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2}))?$/;

/** A point in time, in milliseconds: an ISO 8601 date-time, epoch milliseconds or a duration back from `nowMs`. */
export function parseInstant(value: string, field: string, nowMs: number): number {
  const duration = DURATION.exec(value);
  if (duration) return nowMs - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS];
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const ms = ISO_DATE_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new InvalidField(field, 'must be an ISO 8601 date-time (2026-01-31T12:00:00Z), a date (2026-01-31), epoch milliseconds or a duration such as 24h or 7d');
  }
  return ms;
}

const EVENT = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

function parseEvent(value: string): Pick<AuditFilter, 'event' | 'eventPrefix'> {
  const prefix = value.endsWith('.*');
  const name = prefix ? value.slice(0, -2) : value;
  if (name.length > 64 || !EVENT.test(name)) throw new InvalidField('event', 'must be an event name (token.issued) or a prefix ending in .* (client.*)');
  return prefix ? { eventPrefix: `${name}.` } : { event: name };
}

function bounded(value: string | undefined, field: string): string | undefined {
  if (value !== undefined && (value.length === 0 || value.length > AUDIT_FILTER_MAX_LENGTH)) {
    throw new InvalidField(field, `must be 1 to ${AUDIT_FILTER_MAX_LENGTH} characters`);
  }
  return value;
}

/** Opaque to callers: the (time, id) position of the last event of a page. */
function encodeCursor(position: AuditPosition): string {
  return Buffer.from(`${position.atMs}.${position.id}`).toString('base64url');
}

function decodeCursor(cursor: string): AuditPosition {
  const match = cursor.length <= 64 ? /^(\d{1,16})\.(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1')) : null;
  if (!match) throw new InvalidField('cursor', "must be a previous page's next_cursor");
  return { atMs: Number(match[1]), id: Number(match[2]) };
}
