-- Issue 13: the control plane.

-- A counter every control-plane write increments in its own transaction: a server notices a change
-- another process made (the CLI, another server on the same file) on its next request, by reading
-- PRAGMA data_version and then this row, and reloads its caches.
CREATE TABLE control_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO control_version (id, version) VALUES (1, 0);

-- Who made a management change (client:<admin client_id> or cli:<os user>), and the caller's user agent.
ALTER TABLE audit_log ADD COLUMN actor TEXT;
ALTER TABLE audit_log ADD COLUMN user_agent TEXT;
CREATE INDEX audit_log_event_at ON audit_log (event, at_ms);
CREATE INDEX audit_log_client_at ON audit_log (client_id, at_ms);
CREATE INDEX audit_log_user_at ON audit_log (user_id, at_ms);
