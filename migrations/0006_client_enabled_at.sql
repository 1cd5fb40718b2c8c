-- When a disabled client was enabled again: a client_credentials access token is not recorded, so
-- one issued before the client was disabled is refused by comparing its iat with this.
ALTER TABLE clients ADD COLUMN enabled_at INTEGER;
