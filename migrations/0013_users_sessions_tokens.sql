-- Issue 13: users, sessions and token revocation through the control plane.

-- Every token of a client or of a user revoked at once (POST /admin/v1/tokens/revoke, a user
-- disabled or given a new password): found by index, not by scanning every token.
CREATE INDEX issued_tokens_client_id ON issued_tokens (client_id);
CREATE INDEX issued_tokens_user_id ON issued_tokens (user_id);
CREATE INDEX refresh_tokens_client_id ON refresh_tokens (client_id);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);
-- A user's live sessions (listed, ended), and a session by its OIDC sid (revoked).
CREATE INDEX sessions_user_id ON sessions (user_id, expires_at);
CREATE INDEX sessions_sid ON sessions (sid);

-- Revocations get a number that only grows (AUTOINCREMENT: never reused, even after the purge
-- deleted the newest row), so a running server loads just those another process (the CLI)
-- added since it last looked, instead of the whole list on every change.
CREATE TABLE revoked_tokens_numbered (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  jti        TEXT NOT NULL UNIQUE,
  expires_at INTEGER NOT NULL
);
INSERT INTO revoked_tokens_numbered (jti, expires_at) SELECT jti, expires_at FROM revoked_tokens ORDER BY rowid;
DROP TABLE revoked_tokens;
ALTER TABLE revoked_tokens_numbered RENAME TO revoked_tokens;
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
