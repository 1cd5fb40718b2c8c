import type { Generated } from 'kysely';

/** Row types of the SQLite schema (migrations/). Only repositories see these. */
export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  claims: string;
  created_at: number;
  updated_at: number;
  /** migrations/0005: 'config' (owned by config.yaml) */
  source: Generated<string>;
  /** migrations/0005: set when disabled (e.g. removed from config.yaml) */
  disabled_at: number | null;
}

export interface ClientsTable {
  client_id: string;
  metadata: string;
  secret_digest: string | null;
  created_at: number;
  updated_at: number;
  /** migrations/0005: 'config' (owned by config.yaml) */
  source: Generated<string>;
  /** migrations/0005: set when disabled (e.g. removed from config.yaml) */
  disabled_at: number | null;
  /** migrations/0006: set when a disabled client is enabled again (and, since 0012, when created) */
  enabled_at: number | null;
  /** migrations/0012: the secret before the last rotation, valid until previous_secret_expires_at */
  previous_secret_digest: string | null;
  previous_secret_expires_at: number | null;
  /** migrations/0012: 'client' or 'service_account' */
  kind: Generated<string>;
  owner: string | null;
  description: string | null;
  /** migrations/0012: when the client stops working (seconds) */
  expires_at: number | null;
}

/** migrations/0005: secrets of the server itself, one per purpose and rotation epoch. */
export interface ServerSecretsTable {
  purpose: string;
  epoch: number;
  secret: string;
  created_at: number;
}

/** migrations/0009: the latest iat accepted while still in the future (replay-window.ts); one row. */
export interface ReplayWatermarkTable {
  id: number;
  anchor: number;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  /** The private JWK as JSON, or sealed under TRUSTY_KEK as a compact JWE (src/infrastructure/keys/key-encryption.ts). */
  private_jwk: string;
  public_jwk: string;
  created_at: number;
  /** When it starts signing (migration 0011); it retires when the next key of its alg activates. */
  activates_at: number;
}

export interface SessionsTable {
  id_digest: string;
  user_id: string;
  auth_time: number;
  created_at: number;
  expires_at: number;
  ended_at: number | null;
  /** migrations/0003: the OIDC sid */
  sid: string | null;
}

export interface SessionClientsTable {
  sid: string;
  client_id: string;
}

export interface RefreshTokensTable {
  token_digest: string;
  grant_id: string;
  client_id: string;
  user_id: string;
  scope: string;
  auth_time: number;
  sid: string | null;
  dpop_jkt: string | null;
  created_at: number;
  expires_at: number;
  idle_expires_at: number;
  rotated_at: number | null;
  revoked_at: number | null;
}

export interface RevokedTokensTable {
  /** migrations/0013: grows with every revocation, never reused (a server loads only the new ones) */
  seq: Generated<number>;
  jti: string;
  expires_at: number;
}

export interface InteractionsTable {
  id: string;
  client_id: string;
  params: string;
  csrf_token: string;
  user_id: string | null;
  auth_time: number | null;
  created_at: number;
  expires_at: number;
}

export interface ConsentsTable {
  user_id: string;
  client_id: string;
  scope: string;
  granted_at: number;
}

export interface AuthorizationCodesTable {
  code_digest: string;
  grant_id: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  scope: string;
  code_challenge: string;
  nonce: string | null;
  auth_time: number;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
  /** migrations/0002 */
  dpop_jkt: string | null;
  /** migrations/0003 */
  sid: string | null;
}

export interface IssuedTokensTable {
  jti: string;
  kind: string;
  grant_id: string | null;
  client_id: string;
  user_id: string | null;
  scope: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at_ms: number;
  event: string;
  client_id: string | null;
  user_id: string | null;
  ip: string | null;
  details: string | null;
  actor: string | null;
  user_agent: string | null;
}

export interface ControlVersionTable {
  id: number;
  version: number;
}

/** migrations/0014: roles (RBAC) and who holds them. */
export interface RolesTable {
  name: string;
  description: string | null;
  /** space-separated scope tokens */
  scope: string;
  /** JSON array of resource URLs */
  resources: string;
  source: string;
  created_at: number;
  updated_at: number;
}

export interface RoleAssignmentsTable {
  role: string;
  principal_type: string;
  principal_id: string;
  source: string;
  created_at: number;
}

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

export interface Database {
  users: UsersTable;
  clients: ClientsTable;
  signing_keys: SigningKeysTable;
  sessions: SessionsTable;
  session_clients: SessionClientsTable;
  refresh_tokens: RefreshTokensTable;
  revoked_tokens: RevokedTokensTable;
  interactions: InteractionsTable;
  consents: ConsentsTable;
  authorization_codes: AuthorizationCodesTable;
  issued_tokens: IssuedTokensTable;
  audit_log: AuditLogTable;
  migrations: MigrationsTable;
  server_secrets: ServerSecretsTable;
  replay_watermark: ReplayWatermarkTable;
  control_version: ControlVersionTable;
  roles: RolesTable;
  role_assignments: RoleAssignmentsTable;
}
