import type { Client } from '../../domain/client.js';
import { effectiveAccess, type EffectiveAccess } from '../../domain/role.js';
import type { RoleRepository, RoleSnapshot } from '../ports/roles.js';

/**
 * What roles give, read on the token endpoint's hot path: a client's effective scopes and
 * resources are computed once per (client object, roles snapshot). Both are immutable and
 * replaced on change (the client cache reloads new Client objects, the role repository makes a
 * new snapshot), so a request costs one WeakMap lookup and no SQL.
 */
export class RoleAccess {
  private snapshotSeen: RoleSnapshot | undefined;
  private byClient = new WeakMap<Client, EffectiveAccess>();

  constructor(private readonly repository: RoleRepository) {}

  /**
   * The client's own scope and resources plus its roles' (what client_credentials may ask for).
   * The management API re-checks an admin token's scope against these scopes (ControlPlane.scopesOf),
   * so taking a role away takes effect at once, and a role granting trusty:admin makes its holders admins.
   */
  forClient(client: Client): EffectiveAccess {
    const snapshot = this.repository.snapshot();
    if (snapshot !== this.snapshotSeen) {
      this.snapshotSeen = snapshot;
      this.byClient = new WeakMap();
    }
    let access = this.byClient.get(client);
    if (access === undefined) {
      access = effectiveAccess(client, snapshot.rolesOf('client', client.clientId), snapshot.roles);
      this.byClient.set(client, access);
    }
    return access;
  }

  /** The names of a user's roles (the `roles` claim of tokens issued for the user), sorted. */
  ofUser(userId: string): readonly string[] {
    return this.repository.snapshot().rolesOf('user', userId);
  }
}
