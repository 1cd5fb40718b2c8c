-- Token lifecycle: refresh tokens, revocations, and what logout needs.

-- OIDC `sid` (random, not derived from the cookie), and the clients each session logged in to.
ALTER TABLE sessions ADD COLUMN sid TEXT;
CREATE TABLE session_clients (
  sid       TEXT NOT NULL,
  client_id TEXT NOT NULL,
  PRIMARY KEY (sid, client_id)
);
ALTER TABLE authorization_codes ADD COLUMN sid TEXT;

CREATE TABLE refresh_tokens (
  token_digest    TEXT PRIMARY KEY,           -- SHA-256 of the opaque token
  grant_id        TEXT NOT NULL,              -- the family: every token rotated from one code
  client_id       TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  scope           TEXT NOT NULL,
  auth_time       INTEGER NOT NULL,
  sid             TEXT,
  dpop_jkt        TEXT,                       -- RFC 9449 §5: bound (public clients)
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,           -- absolute end of the family
  idle_expires_at INTEGER NOT NULL,           -- ends earlier if unused
  rotated_at      INTEGER,                    -- set when exchanged for a successor
  revoked_at      INTEGER
);
CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

-- Revoked access tokens (JWTs), by jti, kept until they would have expired anyway.
CREATE TABLE revoked_tokens (
  jti        TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
