-- Issue 13: the audit log queried by client or user AND event (GET /admin/v1/audit?client_id=&event=).
-- (client_id, at_ms) walked every row of a busy client looking for a rare event; with the event
-- second, each event name is one ordered range, and a client's (or user's) names are found by
-- skipping through the index a name at a time, so these replace the (client_id, at_ms) and
-- (user_id, at_ms) indexes: no more index writes per event than before. Partial: rows without a
-- client (or user) are never looked up by it. src/infrastructure/sqlite/audit-reader.ts.
DROP INDEX audit_log_client_at;
DROP INDEX audit_log_user_at;
CREATE INDEX audit_log_client_event_at ON audit_log (client_id, event, at_ms) WHERE client_id IS NOT NULL;
CREATE INDEX audit_log_user_event_at ON audit_log (user_id, event, at_ms) WHERE user_id IS NOT NULL;
