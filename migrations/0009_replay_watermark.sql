-- Issue 12 (review): instead of a row per single-use value accepted with an iat in the future
-- (0008, a write per request for a client whose clock runs ahead, all loaded at start), one
-- watermark: the latest such iat. The next process refuses every value whose iat is not after it
-- (src/protocol/replay-window.ts). Written at most once a second.
DROP TABLE replay_journal;
CREATE TABLE replay_watermark (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  anchor INTEGER NOT NULL
);
