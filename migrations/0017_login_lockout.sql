-- Issue 14: progressive lockout of an account after failed logins in a row (src/domain/lockout.ts,
-- docs/lockout.md). A table of its own rather than columns of users: a failed login writes here
-- without touching the user row, so the user caches (src/infrastructure/sqlite/user-repository.ts)
-- stay valid and no control change is recorded. A row only for a user with failures (an unknown
-- username never gets one: its state stays in memory); the login deletes it at a success, an
-- operator's unlock or password reset at once; a row 24 h quiet counts as none (the next failure
-- overwrites it). Times are milliseconds since the epoch: the first wait is 1 s. locks: the locks
-- in a row (each doubles the next), 0 before the first; locked_until_ms is the latest lock's end,
-- kept after it passed (the 24 h of quiet count from it).
CREATE TABLE login_lockouts (
  user_id         TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  failures        INTEGER NOT NULL CHECK (failures > 0),
  last_failure_ms INTEGER NOT NULL,
  locks           INTEGER NOT NULL DEFAULT 0 CHECK (locks >= 0),
  locked_until_ms INTEGER
) WITHOUT ROWID;
