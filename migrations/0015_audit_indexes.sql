-- Issue 13: the audit log queried by actor (GET /admin/v1/audit?actor=, trusty audit). Partial:
-- only management changes have an actor, so the token endpoint's events add no index entry.
CREATE INDEX audit_log_actor_at ON audit_log (actor, at_ms) WHERE actor IS NOT NULL;
