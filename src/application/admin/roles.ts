import type { Client } from '../../domain/client.js';
import {
  effectiveAccess,
  grantsControlPlaneScope,
  MAX_ROLE_DESCRIPTION,
  MAX_ROLE_RESOURCES,
  MAX_ROLE_SCOPES,
  MAX_ROLES,
  MAX_ROLES_PER_PRINCIPAL,
  ROLE_NAME,
  ROLE_NAME_RULE,
  type PrincipalType,
  type Role,
  type RoleSource,
} from '../../domain/role.js';
import { parseScope } from '../../domain/scope.js';
import type { AuditLog } from '../ports/repositories.js';
import type { RoleRepository } from '../ports/roles.js';
import { recordChange, type Actor } from './changes.js';
import { Conflict, Forbidden, InvalidField, NotFound } from './errors.js';

/** A role as the management API and the CLI show it (config.yaml's wire names). */
export interface RoleView {
  readonly name: string;
  readonly description: string | null;
  readonly scope: string;
  readonly resources: readonly string[];
  readonly source: RoleSource;
  readonly created_at: number | null;
  readonly updated_at: number | null;
}

export function roleView(role: Role): RoleView {
  return {
    name: role.name,
    description: role.description ?? null,
    scope: role.scopes.join(' '),
    resources: role.resources,
    source: role.source,
    created_at: role.createdAt ?? null,
    updated_at: role.updatedAt ?? null,
  };
}

/** What a principal holds: each role with who gave it; for an enabled client, what it may now ask for. */
export interface PrincipalRolesView {
  readonly roles: ReadonlyArray<{ readonly name: string; readonly source: RoleSource }>;
  readonly effective?: { readonly scope: string; readonly resources: readonly string[] };
}

/** A role's fields, checked by the caller's schema (src/config/schema.ts roleSchema) and again here. */
export interface RoleInput {
  readonly name: string;
  readonly description?: string | undefined;
  readonly scopes: readonly string[];
  readonly resources: readonly string[];
}

/** A change to a role: members left undefined stay; a null description removes it. */
export interface RoleChange {
  readonly description?: string | null | undefined;
  readonly scopes?: readonly string[] | undefined;
  readonly resources?: readonly string[] | undefined;
}

/** The clients and users roles are given to, enabled or not (the clients' and users' stores). */
export interface RolePrincipals {
  client(clientId: string): Promise<{ readonly client: Client; readonly enabled: boolean } | undefined>;
  /** By id (`sub`), else by username. */
  user(idOrUsername: string): Promise<{ readonly id: string; readonly username: string } | undefined>;
}

const ADMIN_ONLY = 'only an actor holding trusty:admin may create, change, delete, give or take a role granting trusty: scopes';

/**
 * Roles through the control plane (management API and CLI). config.yaml's roles may be read,
 * not changed (409); assignments are their own records, so a config client or user may be given
 * roles here too (the file's assignments stay the file's). A role granting any `trusty:` scope
 * is the control plane's own power: only an admin actor may touch it, or trusty:clients:write
 * would escalate to trusty:admin.
 */
export class RoleAdmin {
  constructor(
    private readonly roles: RoleRepository,
    private readonly principals: RolePrincipals,
    private readonly audit: AuditLog,
  ) {}

  /** Roles in name order, `limit` (1–200) after the cursor (the previous page's last name). */
  list(page: { readonly limit: number; readonly cursor?: string | undefined }): { items: Role[]; nextCursor: string | null } {
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const all = [...this.roles.snapshot().roles.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const rest = after === undefined ? all : all.filter((role) => role.name > after);
    const items = rest.slice(0, page.limit);
    return { items, nextCursor: rest.length > page.limit ? encodeCursor(items.at(-1)!.name) : null };
  }

  get(name: string): Role {
    const role = this.roles.snapshot().roles.get(name);
    if (role === undefined) throw new NotFound(`role ${name}`);
    return role;
  }

  async create(input: RoleInput, actor: Actor): Promise<Role> {
    const role: Role = { ...checked(input), source: 'api' };
    if (grantsControlPlaneScope(role) && !actor.admin) throw new Forbidden(ADMIN_ONLY);
    const outcome = await this.roles.create(role);
    if (outcome === 'exists') throw new Conflict(`role ${role.name} already exists`);
    if (outcome === 'full') throw new Conflict(`there are already ${MAX_ROLES} roles`);
    const created = this.get(role.name);
    recordChange(this.audit, actor, 'role.created', {}, undefined, roleView(created));
    return created;
  }

  async update(name: string, change: RoleChange, actor: Actor): Promise<Role> {
    const before = this.get(name);
    assertApiOwned(before);
    const after: Role = {
      ...checked({
        name,
        description: change.description === null ? undefined : (change.description ?? before.description),
        scopes: change.scopes ?? before.scopes,
        resources: change.resources ?? before.resources,
      }),
      source: 'api',
    };
    if ((grantsControlPlaneScope(before) || grantsControlPlaneScope(after)) && !actor.admin) throw new Forbidden(ADMIN_ONLY);
    if (!(await this.roles.update(after))) throw new NotFound(`role ${name}`);
    const updated = this.get(name);
    recordChange(this.audit, actor, 'role.updated', {}, roleView(before), roleView(updated));
    return updated;
  }

  async delete(name: string, actor: Actor): Promise<void> {
    const before = this.get(name);
    assertApiOwned(before);
    if (grantsControlPlaneScope(before) && !actor.admin) throw new Forbidden(ADMIN_ONLY);
    if (!(await this.roles.delete(name))) throw new NotFound(`role ${name}`);
    recordChange(this.audit, actor, 'role.deleted', {}, roleView(before));
  }

  async clientRoles(clientId: string): Promise<PrincipalRolesView> {
    const found = await this.principals.client(clientId);
    if (found === undefined) throw new NotFound(`client ${clientId}`);
    const snapshot = this.roles.snapshot();
    const view = rolesOfView(snapshot.assignmentsOf('client', clientId));
    if (!found.enabled) return view;
    const access = effectiveAccess(found.client, snapshot.rolesOf('client', clientId), snapshot.roles);
    return { ...view, effective: { scope: access.scopes.join(' '), resources: access.resources } };
  }

  async userRoles(idOrUsername: string): Promise<PrincipalRolesView> {
    const user = await this.principals.user(idOrUsername);
    if (user === undefined) throw new NotFound(`user ${idOrUsername}`);
    return rolesOfView(this.roles.snapshot().assignmentsOf('user', user.id));
  }

  /** Replaces the API-given roles of a client (the file's stay); unknown role: 400 naming `roles.N`. */
  async setClientRoles(clientId: string, roles: readonly string[], actor: Actor): Promise<PrincipalRolesView> {
    if ((await this.principals.client(clientId)) === undefined) throw new NotFound(`client ${clientId}`);
    await this.replace('client', clientId, roles, actor, 'role.assigned');
    return this.clientRoles(clientId);
  }

  /** Replaces the API-given roles of a user (by id or username); the file's stay. */
  async setUserRoles(idOrUsername: string, roles: readonly string[], actor: Actor): Promise<PrincipalRolesView> {
    const user = await this.principals.user(idOrUsername);
    if (user === undefined) throw new NotFound(`user ${idOrUsername}`);
    await this.replace('user', user.id, roles, actor, 'role.assigned');
    return this.userRoles(user.id);
  }

  /** Gives one role (the CLI's `roles assign`); nothing changes if the API gave it already. */
  async assign(role: string, principal: Principal, actor: Actor): Promise<PrincipalRolesView> {
    const { type, id } = await this.resolve(principal);
    const current = this.apiRoles(type, id);
    if (!current.includes(role)) await this.replace(type, id, [...current, role], actor, 'role.assigned', 'role');
    return type === 'client' ? this.clientRoles(id) : this.userRoles(id);
  }

  /** Takes back one API-given role (the CLI's `roles unassign`); a role config.yaml gives stays the file's (409). */
  async unassign(role: string, principal: Principal, actor: Actor): Promise<PrincipalRolesView> {
    const { type, id } = await this.resolve(principal);
    const current = this.apiRoles(type, id);
    if (!current.includes(role)) {
      const fromFile = this.roles.snapshot().assignmentsOf(type, id).some((a) => a.role === role && a.source === 'config');
      if (fromFile) throw new Conflict(`role ${role} is given to ${type} ${principal.id} by config.yaml; change it there`);
      throw new NotFound(`role ${role} of ${type} ${principal.id}`);
    }
    await this.replace(type, id, current.filter((name) => name !== role), actor, 'role.unassigned', 'role');
    return type === 'client' ? this.clientRoles(id) : this.userRoles(id);
  }

  private async resolve(principal: Principal): Promise<{ type: PrincipalType; id: string }> {
    if (principal.type === 'client') {
      if ((await this.principals.client(principal.id)) === undefined) throw new NotFound(`client ${principal.id}`);
      return { type: 'client', id: principal.id };
    }
    const user = await this.principals.user(principal.id);
    if (user === undefined) throw new NotFound(`user ${principal.id}`);
    return { type: 'user', id: user.id };
  }

  private apiRoles(type: PrincipalType, id: string): string[] {
    return this.roles
      .snapshot()
      .assignmentsOf(type, id)
      .filter((a) => a.source === 'api')
      .map((a) => a.role);
  }

  private async replace(type: PrincipalType, id: string, roles: readonly string[], actor: Actor, event: string, field = 'roles'): Promise<void> {
    const wanted = [...new Set(roles)];
    if (wanted.length > MAX_ROLES_PER_PRINCIPAL) throw new InvalidField(field, `must name at most ${MAX_ROLES_PER_PRINCIPAL} roles`);
    const snapshot = this.roles.snapshot();
    roles.forEach((name, i) => {
      if (!snapshot.roles.has(name)) throw new InvalidField(field === 'roles' ? `roles.${i}` : field, `names an unknown role ${JSON.stringify(name)}`);
    });
    const before = this.apiRoles(type, id);
    const added = wanted.filter((name) => !before.includes(name));
    const removed = before.filter((name) => !wanted.includes(name));
    if (added.length === 0 && removed.length === 0) return;
    if (!actor.admin && [...added, ...removed].some((name) => grantsControlPlaneScope(snapshot.roles.get(name) ?? { scopes: [] }))) {
      throw new Forbidden(ADMIN_ONLY);
    }
    const missing = await this.roles.setAssignments(type, id, wanted);
    // Deleted meanwhile (between the check above and the write).
    if (missing.length > 0) throw new InvalidField(field === 'roles' ? `roles.${roles.indexOf(missing[0]!)}` : field, `names an unknown role ${JSON.stringify(missing[0])}`);
    const subject = type === 'client' ? { clientId: id } : { userId: id };
    recordChange(this.audit, actor, event, subject, { roles: before }, { roles: wanted });
  }
}

export interface Principal {
  readonly type: PrincipalType;
  /** A client_id; a user's id or username. */
  readonly id: string;
}

function rolesOfView(assignments: ReadonlyArray<{ role: string; source: RoleSource }>): PrincipalRolesView {
  const roles = assignments.map((a) => ({ name: a.role, source: a.source }));
  roles.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.source < b.source ? -1 : 1));
  return { roles };
}

function assertApiOwned(role: Role): void {
  if (role.source === 'config') throw new Conflict(`role ${role.name} is declared in config.yaml; change it there`);
}

/** The rules of src/config/schema.ts roleSchema, asserted again (a caller may have skipped them). */
function checked(input: RoleInput): Omit<Role, 'source'> {
  if (!ROLE_NAME.test(input.name)) throw new InvalidField('name', ROLE_NAME_RULE);
  if (input.description !== undefined && input.description.length > MAX_ROLE_DESCRIPTION) {
    throw new InvalidField('description', `must be at most ${MAX_ROLE_DESCRIPTION} characters`);
  }
  const scopes = [...new Set(input.scopes)];
  if (scopes.length > MAX_ROLE_SCOPES) throw new InvalidField('scope', `must name at most ${MAX_ROLE_SCOPES} scopes`);
  // RFC 6749 §3.3: each one token (a space inside one, or an empty one, would not parse back to itself).
  if (parseScope(scopes.join(' '))?.length !== scopes.length) throw new InvalidField('scope', 'must be space-separated scope tokens (RFC 6749 §3.3)');
  const resources = [...new Set(input.resources)];
  if (resources.length > MAX_ROLE_RESOURCES) throw new InvalidField('resources', `must list at most ${MAX_ROLE_RESOURCES} resources`);
  resources.forEach((resource, i) => {
    if (!isAbsoluteUrl(resource)) throw new InvalidField(`resources.${i}`, 'must be an absolute URL without a fragment');
  });
  return { name: input.name, description: input.description, scopes, resources };
}

function isAbsoluteUrl(value: string): boolean {
  if (value.includes('#') || value.length > 2000) return false;
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}

function encodeCursor(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const name = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!ROLE_NAME.test(name)) throw new InvalidField('cursor', 'is not a cursor of this list');
  return name;
}
