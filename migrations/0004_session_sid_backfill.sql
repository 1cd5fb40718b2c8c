-- Sessions created before 0003 have no sid; give them the one the code derived for them, so
-- the purge job (which keeps session_clients rows of live sessions by sid) sees them.
UPDATE sessions SET sid = substr(id_digest, 1, 22) WHERE sid IS NULL;
