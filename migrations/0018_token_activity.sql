-- Issue 14: GET /observability/tokens counts the tokens issued in the last hour and day per grant
-- type, which only details.grant_type (JSON) holds. Without this index each count read every
-- token.issued row of the day from the table: 1.2 s for 850 000 rows; with it, a count is a range
-- of this index (docs/observability.md, measured by bench/observability-tokens.ts). Partial: only
-- token.issued rows pay the extra index entry. src/infrastructure/sqlite/activity-reader.ts.
CREATE INDEX audit_log_issued_grant_at ON audit_log (json_extract(details, '$.grant_type'), at_ms) WHERE event = 'token.issued';
