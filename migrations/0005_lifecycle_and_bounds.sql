-- Issue 12: clients and users the file no longer declares are disabled, not deleted; server
-- secrets that every process on the database shares; pending interactions counted per client.

-- Who owns a row: 'config' (config.yaml, disabled when the file drops it) or, later, 'api'.
ALTER TABLE clients ADD COLUMN source TEXT NOT NULL DEFAULT 'config';
ALTER TABLE clients ADD COLUMN disabled_at INTEGER;
ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'config';
ALTER TABLE users ADD COLUMN disabled_at INTEGER;

-- Secrets of the server itself (the DPoP nonce key): one per purpose and rotation epoch, so two
-- processes starting in the same epoch insert the same row once and agree on it.
CREATE TABLE server_secrets (
  purpose    TEXT NOT NULL,
  epoch      INTEGER NOT NULL,
  secret     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (purpose, epoch)
);

-- Pending interactions are bounded per client and overall: counting them needs this index.
CREATE INDEX interactions_client_expires ON interactions (client_id, expires_at);
CREATE INDEX interactions_expires ON interactions (expires_at);
