import type SQLite from 'better-sqlite3';
import {
  ACTIVITY_MAX_GRANT_TYPES,
  type ActivityReader,
  type ActivityWindows,
  type SessionActivity,
  type TokenActivity,
  type TokenCounts,
  type WindowCounts,
} from '../../application/ports/activity-reader.js';

/** Stored clients counted per statement; the event loop is given back between two. */
export const ACTIVITY_CLIENTS_PER_STATEMENT = 256;

const GRANT = "json_extract(details, '$.grant_type')";
/** Migration 0018: (grant type, at_ms) of token.issued rows only. */
const BY_GRANT = `audit_log INDEXED BY audit_log_issued_grant_at WHERE event = 'token.issued'`;

type ClientRow = [clientId: string, issuedDay: number, issuedHour: number, revokedDay: number, revokedHour: number, reusedDay: number, reusedHour: number];

/** One event of one client since a time: a range of (client_id, event, at_ms), migration 0016. */
const clientCount = (event: string, since: '@day' | '@hour') =>
  `(SELECT count(*) FROM audit_log a INDEXED BY audit_log_client_event_at WHERE a.client_id = c.client_id AND a.event = '${event}' AND a.at_ms >= ${since})`;

/**
 * The observability endpoints' counts from SQLite. Every count is a range of an index, read in
 * the index alone, so a call costs about the number of events in the day (not in the whole log)
 * plus a few seeks per stored client: measured with 1 000 000 events in the day by
 * bench/observability-tokens.ts (docs/observability.md).
 * - Grant types: (grant type, at_ms) of token.issued (migration 0018); the grant types present are
 *   found by skipping through it one value at a time, as the audit reader does with event names.
 * - Clients: (client_id, event, at_ms) (migration 0016), counted for each row of `clients`.
 * - Revoked, reused and logins: (event, at_ms) (migration 0010).
 * Statements run on the server's only connection: between two, the event loop is given back, so a
 * call never holds the server for longer than one of its statements (the largest is one grant
 * type's count over the day: about 50 ms for 500 000 tokens).
 */
export class SqliteActivityReader implements ActivityReader {
  private readonly firstGrant: SQLite.Statement<[], string | number | null>;
  private readonly nextGrant: SQLite.Statement<[string | number], string | number | null>;
  private readonly grantCount: SQLite.Statement<[string | number, number], number>;
  private readonly noGrantCount: SQLite.Statement<[number], number>;
  private readonly otherGrantsCount: SQLite.Statement<[string | number, number], number>;
  private readonly eventCount: SQLite.Statement<[string, number], number>;
  private readonly clientPage: SQLite.Statement<{ after: string; limit: number; day: number; hour: number }, ClientRow>;
  private readonly liveSessions: SQLite.Statement<[number], { active: number; users: number }>;

  constructor(sqlite: SQLite.Database) {
    this.firstGrant = sqlite.prepare<[], string | number | null>(`SELECT ${GRANT} FROM ${BY_GRANT} AND ${GRANT} IS NOT NULL ORDER BY ${GRANT} LIMIT 1`).pluck();
    this.nextGrant = sqlite.prepare<[string | number], string | number | null>(`SELECT ${GRANT} FROM ${BY_GRANT} AND ${GRANT} > ? ORDER BY ${GRANT} LIMIT 1`).pluck();
    this.grantCount = sqlite.prepare<[string | number, number], number>(`SELECT count(*) FROM ${BY_GRANT} AND ${GRANT} = ? AND at_ms >= ?`).pluck();
    this.noGrantCount = sqlite.prepare<[number], number>(`SELECT count(*) FROM ${BY_GRANT} AND ${GRANT} IS NULL AND at_ms >= ?`).pluck();
    // Beyond ACTIVITY_MAX_GRANT_TYPES (a hand-edited log): every row of those grant types is read.
    this.otherGrantsCount = sqlite.prepare<[string | number, number], number>(`SELECT count(*) FROM ${BY_GRANT} AND ${GRANT} > ? AND at_ms >= ?`).pluck();
    this.eventCount = sqlite.prepare<[string, number], number>('SELECT count(*) FROM audit_log INDEXED BY audit_log_event_at WHERE event = ? AND at_ms >= ?').pluck();
    this.clientPage = sqlite
      .prepare<{ after: string; limit: number; day: number; hour: number }, ClientRow>(
        `SELECT c.client_id, ${clientCount('token.issued', '@day')}, ${clientCount('token.issued', '@hour')},
          ${clientCount('token.revoked', '@day')}, ${clientCount('token.revoked', '@hour')},
          ${clientCount('refresh_token.reused', '@day')}, ${clientCount('refresh_token.reused', '@hour')}
        FROM clients c WHERE c.client_id > @after ORDER BY c.client_id LIMIT @limit`,
      )
      .raw();
    // A range of sessions_expires_at; ended rows in it are skipped one by one (the purge deletes them).
    this.liveSessions = sqlite.prepare<[number], { active: number; users: number }>(
      'SELECT count(*) AS active, count(DISTINCT user_id) AS users FROM sessions WHERE expires_at > ? AND ended_at IS NULL',
    );
  }

  async tokenActivity(windows: ActivityWindows): Promise<TokenActivity> {
    const issuedByGrantType: Array<{ grantType: string | null; counts: WindowCounts }> = [];
    const both = (count: (since: number) => number): WindowCounts => ({ day: count(windows.dayStartMs), hour: count(windows.hourStartMs) });

    let grant = this.firstGrant.get();
    while (grant !== undefined && grant !== null && issuedByGrantType.length < ACTIVITY_MAX_GRANT_TYPES) {
      const value = grant;
      await breathe();
      issuedByGrantType.push({ grantType: String(value), counts: both((since) => this.grantCount.get(value, since)!) });
      grant = this.nextGrant.get(value);
    }
    if (grant !== undefined && grant !== null) {
      const last = issuedByGrantType.at(-1)!.grantType!;
      await breathe();
      issuedByGrantType.push({ grantType: '*', counts: both((since) => this.otherGrantsCount.get(last, since)!) });
    }
    const noGrant = both((since) => this.noGrantCount.get(since)!);
    if (noGrant.day > 0) issuedByGrantType.push({ grantType: null, counts: noGrant });

    await breathe();
    const totals: TokenCounts = {
      issued: {
        day: issuedByGrantType.reduce((sum, entry) => sum + entry.counts.day, 0),
        hour: issuedByGrantType.reduce((sum, entry) => sum + entry.counts.hour, 0),
      },
      revoked: both((since) => this.eventCount.get('token.revoked', since)!),
      refreshTokenReused: both((since) => this.eventCount.get('refresh_token.reused', since)!),
    };

    const clients: Array<{ clientId: string; counts: TokenCounts }> = [];
    for (let after = ''; ; ) {
      await breathe();
      const rows = this.clientPage.all({ after, limit: ACTIVITY_CLIENTS_PER_STATEMENT, day: windows.dayStartMs, hour: windows.hourStartMs });
      for (const [clientId, issuedDay, issuedHour, revokedDay, revokedHour, reusedDay, reusedHour] of rows) {
        if (issuedDay + revokedDay + reusedDay === 0) continue;
        clients.push({
          clientId,
          counts: {
            issued: { day: issuedDay, hour: issuedHour },
            revoked: { day: revokedDay, hour: revokedHour },
            refreshTokenReused: { day: reusedDay, hour: reusedHour },
          },
        });
      }
      if (rows.length < ACTIVITY_CLIENTS_PER_STATEMENT) break;
      after = rows.at(-1)![0];
    }
    return { totals, issuedByGrantType, clients };
  }

  async sessionActivity(now: number, windows: ActivityWindows): Promise<SessionActivity> {
    const live = this.liveSessions.get(now)!;
    return {
      active: live.active,
      activeUsers: live.users,
      started: { day: this.eventCount.get('login.success', windows.dayStartMs)!, hour: this.eventCount.get('login.success', windows.hourStartMs)! },
    };
  }
}

/** Lets the event loop serve what waits (requests, timers) before the next statement. */
function breathe(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
