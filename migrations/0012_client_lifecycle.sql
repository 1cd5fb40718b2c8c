-- Issue 13: clients made through the management API, secret rotation, service accounts.

-- After a secret rotation the previous secret stays valid until previous_secret_expires_at (the grace period).
ALTER TABLE clients ADD COLUMN previous_secret_digest TEXT;
ALTER TABLE clients ADD COLUMN previous_secret_expires_at INTEGER;
-- 'client', or 'service_account' (made by POST /admin/v1/service-accounts).
ALTER TABLE clients ADD COLUMN kind TEXT NOT NULL DEFAULT 'client';
-- Who answers for the client, and what it is for (free text, shown by the API and the CLI).
ALTER TABLE clients ADD COLUMN owner TEXT;
ALTER TABLE clients ADD COLUMN description TEXT;
-- When the client stops working (epoch seconds); NULL: never.
ALTER TABLE clients ADD COLUMN expires_at INTEGER;

-- The management API lists by source and kind, paged by client_id.
CREATE INDEX clients_source_id ON clients (source, client_id);
CREATE INDEX clients_kind_id ON clients (kind, client_id);
