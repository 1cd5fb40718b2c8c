/**
 * Summaries of recent activity for the observability endpoints (docs/observability.md), read
 * from the audit log and the sessions: counts only, never an event, a token or a user.
 */

/** The two windows every count is given for: each starts at an instant and runs to now. */
export interface ActivityWindows {
  /** Milliseconds since the epoch (the audit log's at_ms clock). */
  readonly hourStartMs: number;
  readonly dayStartMs: number;
}

/** How many of something in each window. */
export interface WindowCounts {
  readonly hour: number;
  readonly day: number;
}

/** The token events counted (audit events token.issued, token.revoked, refresh_token.reused). */
export interface TokenCounts {
  readonly issued: WindowCounts;
  readonly revoked: WindowCounts;
  readonly refreshTokenReused: WindowCounts;
}

export interface TokenActivity {
  /** Over every client, deleted ones included. */
  readonly totals: TokenCounts;
  /**
   * token.issued by details.grant_type: one entry per grant type seen in the log (null: rows
   * without one), at most ACTIVITY_MAX_GRANT_TYPES, then one with grantType '*' for the rest.
   */
  readonly issuedByGrantType: ReadonlyArray<{ readonly grantType: string | null; readonly counts: WindowCounts }>;
  /** Every stored client with at least one of these events in the day (a deleted one is only in totals). */
  readonly clients: ReadonlyArray<{ readonly clientId: string; readonly counts: TokenCounts }>;
}

export interface SessionActivity {
  /** Sessions neither ended nor expired at `now`. */
  readonly active: number;
  /** Users holding at least one of them. */
  readonly activeUsers: number;
  /** Successful logins (each starts a session: login.success events) in each window. */
  readonly started: WindowCounts;
}

/**
 * Reads the counts. Each call's cost grows with the events in the day and the stored clients,
 * never with the whole log; an implementation that runs on the server's event loop gives it back
 * between its statements (src/infrastructure/sqlite/activity-reader.ts).
 */
export interface ActivityReader {
  tokenActivity(windows: ActivityWindows): Promise<TokenActivity>;
  /** `now` in epoch seconds (session expiry), the windows in milliseconds (the audit log). */
  sessionActivity(now: number, windows: ActivityWindows): Promise<SessionActivity>;
}

/** Grant types listed one by one at most: the code writes three; a hand-edited log may hold any. */
export const ACTIVITY_MAX_GRANT_TYPES = 16;
