import type { Client } from '../../domain/client.js';
import {
  effectiveAccess,
  grantsControlPlaneScope,
  MAX_ROLES,
  MAX_ROLES_PER_PRINCIPAL,
  ROLE_NAME,
  type PrincipalType,
  type Role,
  type RoleSource,
} from '../../domain/role.js';
import type { AuditLog } from '../ports/repositories.js';
import type { RoleEntry, RoleEntryRules } from '../ports/role-entries.js';
import type { RoleRepository } from '../ports/roles.js';
import { recordChange, type Actor } from './changes.js';
import { Conflict, Forbidden, InvalidField, NotFound } from './errors.js';
import { decodeKeyCursor, encodeKeyCursor, isoOf, pageSize, type Page } from './paging.js';

/** A role as the management API and the CLI show it (config.yaml's wire names). Times are ISO 8601. */
export interface RoleView {
  readonly name: string;
  readonly description: string | null;
  readonly scope: string;
  readonly resources: readonly string[];
  readonly source: RoleSource;
  readonly created_at: string | null;
  readonly updated_at: string | null;
}

export function roleView(role: Role): RoleView {
  return {
    name: role.name,
    description: role.description ?? null,
    scope: role.scopes.join(' '),
    resources: role.resources,
    source: role.source,
    created_at: isoOf(role.createdAt),
    updated_at: isoOf(role.updatedAt),
  };
}

/** What a principal holds: each role with who gave it; for an enabled client, what it may now ask for. */
export interface PrincipalRolesView {
  readonly roles: ReadonlyArray<{ readonly name: string; readonly source: RoleSource }>;
  readonly effective?: { readonly scope: string; readonly resources: readonly string[] };
}

export interface RoleListQuery {
  /** 1–200, default 50. */
  readonly limit?: number | undefined;
  /** The previous page's next_cursor. */
  readonly cursor?: string | undefined;
}

/** The clients and users roles are given to, enabled or not (the clients' and users' stores). */
export interface RolePrincipals {
  client(clientId: string): Promise<{ readonly client: Client; readonly enabled: boolean } | undefined>;
  /** By id (`sub`), else by username. */
  user(idOrUsername: string): Promise<{ readonly id: string; readonly username: string } | undefined>;
}

export interface RoleAdminDeps {
  readonly roles: RoleRepository;
  readonly rules: RoleEntryRules;
  readonly principals: RolePrincipals;
  readonly audit: AuditLog;
}

const ADMIN_ONLY = 'only an actor holding trusty:admin may create, change, delete, give or take a role granting trusty: scopes';

/**
 * Roles through the control plane (management API and CLI). config.yaml's roles may be read,
 * not changed (409); assignments are their own records, so a config client or user may be given
 * roles here too (the file's assignments stay the file's). A role granting any `trusty:` scope
 * is the control plane's own power: only an admin actor may touch it, or trusty:clients:write
 * would escalate to trusty:admin. Inputs are config.yaml's role entries, checked with its rules.
 */
export class RoleAdmin {
  private readonly roles: RoleRepository;

  constructor(private readonly deps: RoleAdminDeps) {
    this.roles = deps.roles;
  }

  /** Roles in name order, `limit` (1–200) after the cursor (the previous page's last name). */
  async list(query: RoleListQuery = {}): Promise<Page<RoleView>> {
    const limit = pageSize(query.limit);
    const after = query.cursor === undefined ? undefined : decodeKeyCursor(query.cursor, (name) => ROLE_NAME.test(name));
    const all = [...this.roles.snapshot().roles.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const rest = after === undefined ? all : all.filter((role) => role.name > after);
    const items = rest.slice(0, limit);
    return { items: items.map(roleView), next_cursor: rest.length > limit ? encodeKeyCursor(items.at(-1)!.name) : null };
  }

  async get(name: string): Promise<RoleView> {
    return roleView(this.find(name));
  }

  /** A new role owned by the API, from a config.yaml role entry (`name`, `description`, `scope`, `resources`). */
  async create(actor: Actor, entry: unknown): Promise<RoleView> {
    const role: Role = { ...this.check(entry), source: 'api' };
    if (grantsControlPlaneScope(role) && !actor.admin) throw new Forbidden(ADMIN_ONLY);
    const outcome = await this.roles.create(role);
    if (outcome === 'exists') throw new Conflict(`role ${role.name} already exists`);
    if (outcome === 'full') throw new Conflict(`there are already ${MAX_ROLES} roles`);
    const created = roleView(this.find(role.name));
    recordChange(this.deps.audit, actor, 'role.created', {}, undefined, created);
    return created;
  }

  /** RFC 7396 merge patch on the role's wire form (null removes a member), then the whole entry is checked again. */
  async update(actor: Actor, name: string, patch: unknown): Promise<RoleView> {
    const body = asObject(patch);
    if (body.name !== undefined && body.name !== name) throw new InvalidField('name', 'cannot be changed (create a new role)');
    const before = this.find(name);
    assertApiOwned(before);
    const wire = this.deps.rules.wireOf(before);
    for (const [member, value] of Object.entries(body)) {
      if (value === null) delete wire[member];
      else if (value !== undefined) wire[member] = value;
    }
    const after: Role = { ...this.check(wire), source: 'api' };
    if ((grantsControlPlaneScope(before) || grantsControlPlaneScope(after)) && !actor.admin) throw new Forbidden(ADMIN_ONLY);
    if (!(await this.roles.update(after))) throw new NotFound(`role ${name}`);
    const updated = roleView(this.find(name));
    recordChange(this.deps.audit, actor, 'role.updated', {}, roleView(before), updated);
    return updated;
  }

  async delete(actor: Actor, name: string): Promise<void> {
    const before = this.find(name);
    assertApiOwned(before);
    if (grantsControlPlaneScope(before) && !actor.admin) throw new Forbidden(ADMIN_ONLY);
    if (!(await this.roles.delete(name))) throw new NotFound(`role ${name}`);
    recordChange(this.deps.audit, actor, 'role.deleted', {}, roleView(before));
  }

  async clientRoles(clientId: string): Promise<PrincipalRolesView> {
    const found = await this.deps.principals.client(clientId);
    if (found === undefined) throw new NotFound(`client ${clientId}`);
    const snapshot = this.roles.snapshot();
    const view = rolesOfView(snapshot.assignmentsOf('client', clientId));
    if (!found.enabled) return view;
    const access = effectiveAccess(found.client, snapshot.rolesOf('client', clientId), snapshot.roles);
    return { ...view, effective: { scope: access.scopes.join(' '), resources: access.resources } };
  }

  async userRoles(idOrUsername: string): Promise<PrincipalRolesView> {
    const user = await this.deps.principals.user(idOrUsername);
    if (user === undefined) throw new NotFound(`user ${idOrUsername}`);
    return rolesOfView(this.roles.snapshot().assignmentsOf('user', user.id));
  }

  /** Replaces the API-given roles of a client (the file's stay); unknown role: 400 naming `roles.N`. */
  async setClientRoles(actor: Actor, clientId: string, roles: readonly string[]): Promise<PrincipalRolesView> {
    if ((await this.deps.principals.client(clientId)) === undefined) throw new NotFound(`client ${clientId}`);
    await this.replace(actor, 'client', clientId, roles, 'role.assigned');
    return this.clientRoles(clientId);
  }

  /** Replaces the API-given roles of a user (by id or username); the file's stay. */
  async setUserRoles(actor: Actor, idOrUsername: string, roles: readonly string[]): Promise<PrincipalRolesView> {
    const user = await this.deps.principals.user(idOrUsername);
    if (user === undefined) throw new NotFound(`user ${idOrUsername}`);
    await this.replace(actor, 'user', user.id, roles, 'role.assigned');
    return this.userRoles(user.id);
  }

  /** Gives one role (the CLI's `roles assign`); nothing changes if the API gave it already. */
  async assign(actor: Actor, role: string, principal: Principal): Promise<PrincipalRolesView> {
    const { type, id } = await this.resolve(principal);
    const current = this.apiRoles(type, id);
    if (!current.includes(role)) await this.replace(actor, type, id, [...current, role], 'role.assigned', 'role');
    return type === 'client' ? this.clientRoles(id) : this.userRoles(id);
  }

  /** Takes back one API-given role (the CLI's `roles unassign`); a role config.yaml gives stays the file's (409). */
  async unassign(actor: Actor, role: string, principal: Principal): Promise<PrincipalRolesView> {
    const { type, id } = await this.resolve(principal);
    const current = this.apiRoles(type, id);
    if (!current.includes(role)) {
      const fromFile = this.roles.snapshot().assignmentsOf(type, id).some((a) => a.role === role && a.source === 'config');
      if (fromFile) throw new Conflict(`role ${role} is given to ${type} ${principal.id} by config.yaml; change it there`);
      throw new NotFound(`role ${role} of ${type} ${principal.id}`);
    }
    await this.replace(actor, type, id, current.filter((name) => name !== role), 'role.unassigned', 'role');
    return type === 'client' ? this.clientRoles(id) : this.userRoles(id);
  }

  private find(name: string): Role {
    const role = this.roles.snapshot().roles.get(name);
    if (role === undefined) throw new NotFound(`role ${name}`);
    return role;
  }

  /** config.yaml's rules (RoleEntryRules): the first wrong field is a 400 naming it. */
  private check(entry: unknown): RoleEntry {
    const checked = this.deps.rules.check(entry);
    if (!checked.ok) throw new InvalidField(checked.field, checked.message);
    return checked.value;
  }

  private async resolve(principal: Principal): Promise<{ type: PrincipalType; id: string }> {
    if (principal.type === 'client') {
      if ((await this.deps.principals.client(principal.id)) === undefined) throw new NotFound(`client ${principal.id}`);
      return { type: 'client', id: principal.id };
    }
    const user = await this.deps.principals.user(principal.id);
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

  private async replace(actor: Actor, type: PrincipalType, id: string, roles: readonly string[], event: string, field = 'roles'): Promise<void> {
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
    recordChange(this.deps.audit, actor, event, subject, { roles: before }, { roles: wanted });
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

function asObject(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidField('body', 'must be a JSON object');
  return value as Record<string, unknown>;
}

