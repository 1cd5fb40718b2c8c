-- Issue 12: single-use values (client-assertion and DPoP jti) accepted while their iat was still
-- in the future, kept until they expire so that the next process refuses their replay (the
-- memory replay cache forgets on restart; src/protocol/replay-window.ts). Rare: a few rows.
CREATE TABLE replay_journal (
  -- The first 53 bits of the SHA-256 of the remembered key (memory-replay-cache.ts replayDigest).
  digest     INTEGER PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX replay_journal_expires_at ON replay_journal (expires_at);
