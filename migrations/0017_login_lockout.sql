-- Issue 14: progressive lockout of an account after failed logins in a row (src/domain/lockout.ts,
-- docs/lockout.md). A table of its own rather than columns of users: a failed login writes here
-- without touching the user row, so the user caches (src/infrastructure/sqlite/user-repository.ts)
-- stay valid and no control change is recorded. A row only for a user with failures that still
-- count (an unknown username never gets one); the login deletes it at a success, an operator's
-- unlock at once. Times are milliseconds since the epoch: the first wait is 1 s.
CREATE TABLE login_lockouts (
  user_id         TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  failures        INTEGER NOT NULL CHECK (failures > 0),
  last_failure_ms INTEGER NOT NULL,
  locked_until_ms INTEGER
) WITHOUT ROWID;
