import type { PrincipalType, Role, RoleAssignment } from '../../domain/role.js';

/** The roles and assignments at one moment: immutable, so a cache may be keyed by it. */
export interface RoleSnapshot {
  readonly roles: ReadonlyMap<string, Role>;
  /** The names of a principal's roles (from every source), sorted; the same array on every call. */
  rolesOf(type: PrincipalType, id: string): readonly string[];
  /** A principal's assignments, with their sources. */
  assignmentsOf(type: PrincipalType, id: string): readonly RoleAssignment[];
}

/** What seeding config.yaml's roles did. */
export interface RoleSeedReport {
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly deleted: number;
  /** Whether the file's assignments changed. */
  readonly assignmentsChanged: boolean;
}

/**
 * Roles and who holds them. Reads answer from memory, synchronously (the token endpoint asks on
 * every client_credentials request); the memory is reloaded once after any control-plane change,
 * whoever made it. Writes are conditional, so a check and its write cannot be raced.
 */
export interface RoleRepository {
  /** The current roles and assignments (the same object until something changes). */
  snapshot(): RoleSnapshot;
  /** Creates an `api` role unless one of that name exists, or there are already MAX_ROLES roles. */
  create(role: Role): Promise<'created' | 'exists' | 'full'>;
  /** Updates an `api` role; false when there is none of that name. */
  update(role: Role): Promise<boolean>;
  /** Deletes an `api` role and every assignment of it; false when there is none of that name. */
  delete(name: string): Promise<boolean>;
  /**
   * Replaces the `api` assignments of one principal by `roles`, in one transaction that checks
   * they exist; returns the names that do not (and then writes nothing).
   */
  setAssignments(type: PrincipalType, id: string, roles: readonly string[]): Promise<string[]>;
  /**
   * config.yaml's roles and assignments, owned by the file: its roles are created or updated
   * (a role of the API's with the same name becomes the file's), config roles it no longer
   * declares are deleted with their assignments, and the config assignments become exactly
   * `assignments`. API roles and API assignments are never touched.
   */
  seedConfig(roles: readonly Role[], assignments: readonly Omit<RoleAssignment, 'source'>[]): Promise<RoleSeedReport>;
}
