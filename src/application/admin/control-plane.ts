/**
 * The control plane's use cases, one service per resource; the management API (src/http/admin)
 * and the CLI (src/cli) are thin adapters over the same object, built in src/container.ts.
 */
import type { Client } from '../../domain/client.js';
import type { RoleAdmin } from './roles.js';
import type { ClientAdmin } from './clients.js';
import type { ServiceAccountAdmin } from './service-accounts.js';
import type { AuditQuery } from './audit.js';
import type { KeyAdmin } from './keys.js';
import type { SessionAdmin } from './sessions.js';
import type { TokenAdmin } from './tokens.js';
import type { UserAdmin } from './users.js';

export interface ControlPlane {
  /** Writes the audit events still buffered (a reader in this process, tests, sees them at once). */
  flush(): Promise<void>;
  /** The scopes a client may be granted now (its own and its roles'): the admin API re-checks its caller's. */
  scopesOf(client: Client): readonly string[];
  /** The audit log read back: query, tail, follow, export. */
  readonly audit: AuditQuery;
  roles: RoleAdmin;
  /** The signing keys: lifecycle and on-demand rotation. */
  readonly keys: KeyAdmin;
  /** End-users: config.yaml's read-only, the API's managed. */
  readonly users: UserAdmin;
  /** Users' SSO sessions: listed and revoked (with back-channel logout). */
  readonly sessions: SessionAdmin;
  /** Every token of a client or a user, revoked at once. */
  readonly tokens: TokenAdmin;
  /** Clients: config.yaml's read-only, the API's managed (secrets, keys, state). */
  readonly clients: ClientAdmin;
  /** client_credentials clients made in one call with a generated key pair or secret. */
  readonly serviceAccounts: ServiceAccountAdmin;
}
