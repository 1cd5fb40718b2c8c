import type { Role, RoleAssignment } from '../../domain/role.js';
import type { UserRepository } from '../ports/repositories.js';
import type { RoleRepository, RoleSeedReport } from '../ports/roles.js';

export interface RoleSeed {
  readonly roles: readonly Role[];
  readonly clients: ReadonlyArray<{ readonly clientId: string; readonly roles: readonly string[] }>;
  readonly users: ReadonlyArray<{ readonly username: string; readonly roles: readonly string[] }>;
}

/**
 * config.yaml's roles and who holds them, after its clients and users were seeded (a user's roles
 * are kept by its id). Contract: the file owns what it declares — its roles are created or
 * updated, the config roles it dropped are deleted with their assignments, and its assignments
 * are exactly those it lists; roles and assignments made through the API are never touched.
 * A role name the API already uses is refused (as clients and users are, in seed.ts): taking it
 * over would silently change what the API gave to its holders.
 */
export async function seedRoles(input: RoleSeed, deps: { roles: RoleRepository; users: UserRepository }): Promise<RoleSeedReport> {
  const existing = deps.roles.snapshot().roles;
  input.roles.forEach((role, i) => {
    if (existing.get(role.name)?.source === 'api') {
      throw new Error(
        `config.yaml roles[${i}].name: "${role.name}" is already a role made through the management API; ` +
          `rename it in config.yaml, or delete the API role first (trusty roles delete ${role.name})`,
      );
    }
  });
  const assignments: Array<Omit<RoleAssignment, 'source'>> = [];
  for (const client of input.clients) {
    for (const role of new Set(client.roles)) assignments.push({ role, principalType: 'client', principalId: client.clientId });
  }
  for (const user of input.users) {
    if (user.roles.length === 0) continue;
    const stored = await deps.users.findByUsername(user.username, { includeDisabled: true });
    if (stored === undefined) continue; // seeded just before: only a concurrent deletion gets here
    for (const role of new Set(user.roles)) assignments.push({ role, principalType: 'user', principalId: stored.id });
  }
  return deps.roles.seedConfig(input.roles, assignments);
}
