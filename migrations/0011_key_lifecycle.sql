-- Issue 13: signing key lifecycle. A key signs from activates_at until the next key of its
-- algorithm activates, then stays published until what it signed has expired (src/domain/signing-key.ts).
-- Keys that existed before signed from their creation; retired_at was never set (a row with it
-- set was never loaded), so such rows go and the column with them.
ALTER TABLE signing_keys ADD COLUMN activates_at INTEGER;
DELETE FROM signing_keys WHERE retired_at IS NOT NULL;
ALTER TABLE signing_keys DROP COLUMN retired_at;
-- Two processes starting at once could each create a key of an algorithm in the same second:
-- the later row activates a second later, so that activation times are unique.
UPDATE signing_keys SET activates_at = created_at + (
  SELECT COUNT(*) FROM signing_keys AS earlier
  WHERE earlier.alg = signing_keys.alg AND earlier.created_at = signing_keys.created_at AND earlier.rowid < signing_keys.rowid
);
-- Two keys of one algorithm never activate in the same second (their order is their states).
CREATE UNIQUE INDEX signing_keys_alg_activates_at ON signing_keys (alg, activates_at);
