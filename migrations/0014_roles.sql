-- Issue 13: roles for services and agents (RBAC). A role names scopes and resources; clients and
-- users are given roles. `source` says who owns a row: 'config' (config.yaml, reseeded at every
-- start) or 'api' (the management API and the CLI; never touched by the file).
CREATE TABLE roles (
  name        TEXT PRIMARY KEY,
  description TEXT,
  -- space-separated scope tokens (RFC 6749 §3.3), possibly empty
  scope       TEXT NOT NULL,
  -- JSON array of absolute URLs (RFC 8707 resources)
  resources   TEXT NOT NULL,
  source      TEXT NOT NULL CHECK (source IN ('config', 'api')),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- principal_id: a client's client_id, or a user's id (its `sub`). The same role may be given to a
-- principal by the file and by the API: two rows, each owned by its source.
CREATE TABLE role_assignments (
  role           TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
  principal_type TEXT NOT NULL CHECK (principal_type IN ('client', 'user')),
  principal_id   TEXT NOT NULL,
  source         TEXT NOT NULL CHECK (source IN ('config', 'api')),
  created_at     INTEGER NOT NULL,
  PRIMARY KEY (principal_type, principal_id, role, source)
);
CREATE INDEX role_assignments_role ON role_assignments (role);

-- A deleted client or user takes its roles with it: a later one with the same id must not inherit them.
CREATE TRIGGER clients_delete_role_assignments AFTER DELETE ON clients BEGIN
  DELETE FROM role_assignments WHERE principal_type = 'client' AND principal_id = OLD.client_id;
END;
CREATE TRIGGER users_delete_role_assignments AFTER DELETE ON users BEGIN
  DELETE FROM role_assignments WHERE principal_type = 'user' AND principal_id = OLD.id;
END;
