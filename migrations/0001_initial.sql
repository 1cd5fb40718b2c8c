-- Trusty schema, version 1. Times are Unix epoch seconds unless the column says _ms.
-- Secrets and handles (client secrets, codes, session ids) are stored as SHA-256 digests only.

CREATE TABLE users (
  id            TEXT PRIMARY KEY,             -- the stable `sub`
  username      TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,                -- bcrypt
  claims        TEXT NOT NULL DEFAULT '{}',   -- JSON object of OIDC standard claims
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

CREATE TABLE clients (
  client_id     TEXT PRIMARY KEY,
  metadata      TEXT NOT NULL,                -- JSON: registration metadata, wire names
  secret_digest TEXT,                         -- SHA-256 of client_secret, base64url
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

CREATE TABLE signing_keys (
  kid         TEXT PRIMARY KEY,
  alg         TEXT NOT NULL,
  private_jwk TEXT NOT NULL,
  public_jwk  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  retired_at  INTEGER
);

CREATE TABLE sessions (
  id_digest  TEXT PRIMARY KEY,                -- SHA-256 of the cookie value
  user_id    TEXT NOT NULL,
  auth_time  INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ended_at   INTEGER
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE interactions (
  id         TEXT PRIMARY KEY,                -- random, also in a cookie bound to the browser
  client_id  TEXT NOT NULL,
  params     TEXT NOT NULL,                   -- JSON: the validated authorization request
  csrf_token TEXT NOT NULL,
  user_id    TEXT,                            -- set once the user logged in during this interaction
  auth_time  INTEGER,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX interactions_expires_at ON interactions (expires_at);

CREATE TABLE consents (
  user_id    TEXT NOT NULL,
  client_id  TEXT NOT NULL,
  scope      TEXT NOT NULL,                   -- space-separated granted scopes
  granted_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, client_id)
);

CREATE TABLE authorization_codes (
  code_digest    TEXT PRIMARY KEY,            -- SHA-256 of the code
  grant_id       TEXT NOT NULL,               -- links the tokens issued from this code
  client_id      TEXT NOT NULL,
  user_id        TEXT NOT NULL,
  redirect_uri   TEXT NOT NULL,
  scope          TEXT NOT NULL,
  code_challenge TEXT NOT NULL,               -- PKCE S256
  nonce          TEXT,
  auth_time      INTEGER NOT NULL,
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  consumed_at    INTEGER
);
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);

CREATE TABLE issued_tokens (
  jti        TEXT PRIMARY KEY,
  kind       TEXT NOT NULL,                   -- access_token | refresh_token
  grant_id   TEXT,
  client_id  TEXT NOT NULL,
  user_id    TEXT,
  scope      TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX issued_tokens_grant_id ON issued_tokens (grant_id);
CREATE INDEX issued_tokens_expires_at ON issued_tokens (expires_at);

CREATE TABLE audit_log (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms     INTEGER NOT NULL,
  event     TEXT NOT NULL,
  client_id TEXT,
  user_id   TEXT,
  ip        TEXT,
  details   TEXT                               -- JSON; never secrets, codes or tokens
);
CREATE INDEX audit_log_at ON audit_log (at_ms);
