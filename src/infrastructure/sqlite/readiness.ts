import type SQLite from 'better-sqlite3';

/** One readiness check's answer: 'ok', or why not. */
export type CheckResult = 'ok' | string;

/**
 * The database half of /health/ready: the file answers a read, and its schema is the version
 * this build migrates to (a database another, newer build migrated further is still readable,
 * and is reported as such rather than as ready).
 */
export class SqliteReadiness {
  private readonly latest: SQLite.Statement<[], { version: number | null }>;

  constructor(
    sqlite: SQLite.Database,
    /** The last migration this build ships (migrate()'s `current`). */
    private readonly expectedVersion: number,
  ) {
    this.latest = sqlite.prepare('SELECT max(version) AS version FROM migrations');
  }

  check(): { database: CheckResult; migrations: CheckResult } {
    let version: number | null;
    try {
      version = this.latest.get()?.version ?? null;
    } catch (error) {
      // The message names the cause (SQLITE_IOERR, "database is locked"…), never a path or data.
      return { database: `unreachable: ${error instanceof Error ? error.message : String(error)}`, migrations: 'unknown' };
    }
    const migrations = version === this.expectedVersion ? 'ok' : `schema version ${version ?? 'none'}, this build expects ${this.expectedVersion}`;
    return { database: 'ok', migrations };
  }
}
