import type SQLite from 'better-sqlite3';
import type { Kysely, Selectable } from 'kysely';
import type { RoleRepository, RoleSeedReport, RoleSnapshot } from '../../application/ports/roles.js';
import { MAX_ROLES, type PrincipalType, type Role, type RoleAssignment, type RoleSource } from '../../domain/role.js';
import type { Database, RoleAssignmentsTable, RolesTable } from '../db/schema.js';
import { controlWrite, type ChangeRecorder } from './control-write.js';
import { inChunks } from './end-grants.js';

const NONE: readonly string[] = Object.freeze([]);
const NO_ASSIGNMENTS: readonly RoleAssignment[] = Object.freeze([]);

class Snapshot implements RoleSnapshot {
  private readonly names: Record<PrincipalType, Map<string, readonly string[]>> = { client: new Map(), user: new Map() };
  private readonly assignments: Record<PrincipalType, Map<string, RoleAssignment[]>> = { client: new Map(), user: new Map() };

  constructor(
    readonly roles: ReadonlyMap<string, Role>,
    assignments: readonly RoleAssignment[],
  ) {
    for (const assignment of assignments) {
      const of = this.assignments[assignment.principalType];
      const list = of.get(assignment.principalId) ?? [];
      list.push(assignment);
      of.set(assignment.principalId, list);
    }
    for (const type of ['client', 'user'] as const) {
      for (const [id, list] of this.assignments[type]) {
        this.names[type].set(id, Object.freeze([...new Set(list.map((a) => a.role))].sort()));
      }
    }
  }

  rolesOf(type: PrincipalType, id: string): readonly string[] {
    return this.names[type].get(id) ?? NONE;
  }

  assignmentsOf(type: PrincipalType, id: string): readonly RoleAssignment[] {
    return this.assignments[type].get(id) ?? NO_ASSIGNMENTS;
  }
}

/**
 * Roles in SQLite (migrations/0014), all held in memory: they are few (MAX_ROLES) and read on
 * every client_credentials request. A control-plane change, made here or by another process
 * (the CLI), marks the memory stale; the next read reloads it, synchronously (better-sqlite3),
 * once: then reads are a field access until the next change.
 */
export class SqliteRoleRepository implements RoleRepository {
  private current: Snapshot | undefined;
  private stale = true;
  private readonly readAll: () => { roles: Array<Selectable<RolesTable>>; assignments: Array<Selectable<RoleAssignmentsTable>> };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sqlite: SQLite.Database,
    private readonly clock: () => number,
    private readonly changes: ChangeRecorder,
  ) {
    const roles = sqlite.prepare<[], Selectable<RolesTable>>('SELECT name, description, scope, resources, source, created_at, updated_at FROM roles');
    const assignments = sqlite.prepare<[], Selectable<RoleAssignmentsTable>>('SELECT role, principal_type, principal_id, source, created_at FROM role_assignments');
    // One read transaction: the roles and the assignments of the same moment.
    this.readAll = sqlite.transaction(() => ({ roles: roles.all(), assignments: assignments.all() }));
    changes.onChange(this.invalidate);
  }

  private readonly invalidate = (): void => {
    this.stale = true;
  };

  /** A write in an IMMEDIATE transaction, recorded as a control change when `changed` says it wrote. */
  private write<T>(work: (trx: Kysely<Database>) => Promise<T>, changed: (result: T) => boolean): Promise<T> {
    return controlWrite(this.db, this.changes, work, changed, this.invalidate);
  }

  snapshot(): RoleSnapshot {
    if (this.current !== undefined && !this.stale) return this.current;
    // A listener runs inside the writer's transaction, before its commit: a read on this
    // connection then would see rows that may still roll back. Serve what was committed before;
    // the first read after the commit reloads.
    if (this.current !== undefined && this.sqlite.inTransaction) return this.current;
    const inTransaction = this.sqlite.inTransaction;
    const { roles, assignments } = this.readAll();
    this.current = new Snapshot(new Map(roles.map((row) => [row.name, toRole(row)])), assignments.map(toAssignment));
    if (!inTransaction) this.stale = false;
    return this.current;
  }

  async create(role: Role): Promise<'created' | 'exists' | 'full'> {
    const now = this.clock();
    return this.write(async (trx) => {
      const exists = await trx.selectFrom('roles').select('name').where('name', '=', role.name).executeTakeFirst();
      if (exists !== undefined) return 'exists';
      const { count } = await trx.selectFrom('roles').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
      if (count >= MAX_ROLES) return 'full';
      await trx.insertInto('roles').values({ ...toRow(role, 'api'), created_at: now, updated_at: now }).execute();
      return 'created' as const;
    }, (outcome) => outcome === 'created');
  }

  async update(role: Role): Promise<boolean> {
    const now = this.clock();
    return this.write(async (trx) => {
      const { description, scope, resources } = toRow(role, 'api');
      const result = await trx
        .updateTable('roles')
        .set({ description, scope, resources, updated_at: now })
        .where('name', '=', role.name)
        .where('source', '=', 'api')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    }, (updated) => updated);
  }

  async delete(name: string): Promise<boolean> {
    return this.write(async (trx) => {
      const result = await trx.deleteFrom('roles').where('name', '=', name).where('source', '=', 'api').executeTakeFirst();
      return result.numDeletedRows > 0n;
    }, (deleted) => deleted);
  }

  async setAssignments(type: PrincipalType, id: string, roles: readonly string[]): Promise<string[]> {
    const wanted = [...new Set(roles)];
    const now = this.clock();
    return this.write(async (trx) => {
      const found = wanted.length === 0 ? [] : await trx.selectFrom('roles').select('name').where('name', 'in', wanted).execute();
      const known = new Set(found.map((row) => row.name));
      const missing = wanted.filter((name) => !known.has(name));
      if (missing.length > 0) return missing;
      await trx.deleteFrom('role_assignments').where('principal_type', '=', type).where('principal_id', '=', id).where('source', '=', 'api').execute();
      if (wanted.length > 0) {
        await trx
          .insertInto('role_assignments')
          .values(wanted.map((role) => ({ role, principal_type: type, principal_id: id, source: 'api', created_at: now })))
          .execute();
      }
      return [];
    }, (missing) => missing.length === 0);
  }

  async seedConfig(roles: readonly Role[], assignments: readonly Omit<RoleAssignment, 'source'>[]): Promise<RoleSeedReport> {
    const now = this.clock();
    return this.write(async (trx) => {
      const existing = new Map((await trx.selectFrom('roles').selectAll().execute()).map((row) => [row.name, row]));
      let created = 0;
      let updated = 0;
      let unchanged = 0;
      for (const role of roles) {
        const row = toRow(role, 'config');
        const before = existing.get(role.name);
        if (before === undefined) {
          await trx.insertInto('roles').values({ ...row, created_at: now, updated_at: now }).execute();
          created++;
        } else if (before.description === row.description && before.scope === row.scope && before.resources === row.resources && before.source === 'config') {
          unchanged++;
        } else {
          // The file owns what it declares, even a role first made through the API.
          await trx.updateTable('roles').set({ ...row, updated_at: now }).where('name', '=', role.name).execute();
          updated++;
        }
      }
      const declared = new Set(roles.map((role) => role.name));
      const dropped = [...existing.values()].filter((row) => row.source === 'config' && !declared.has(row.name)).map((row) => row.name);
      // Their assignments go with them (ON DELETE CASCADE), the API's too: a role that no longer exists gives nothing.
      await inChunks(dropped, (chunk) => trx.deleteFrom('roles').where('name', 'in', chunk).execute());

      const key = (a: Omit<RoleAssignment, 'source'>) => `${a.principalType}\u0000${a.principalId}\u0000${a.role}`;
      const wanted = new Map(assignments.map((a) => [key(a), a]));
      const had = await trx.selectFrom('role_assignments').select(['role', 'principal_type', 'principal_id']).where('source', '=', 'config').execute();
      const hadKeys = new Set(had.map((row) => key(toAssignment({ ...row, source: 'config', created_at: 0 }))));
      const assignmentsChanged = hadKeys.size !== wanted.size || [...wanted.keys()].some((k) => !hadKeys.has(k));
      if (assignmentsChanged) {
        await trx.deleteFrom('role_assignments').where('source', '=', 'config').execute();
        const rows = [...wanted.values()].map((a) => ({ role: a.role, principal_type: a.principalType, principal_id: a.principalId, source: 'config', created_at: now }));
        await inChunks(rows, (chunk) => trx.insertInto('role_assignments').values([...chunk]).execute());
      }
      return { created, updated, unchanged, deleted: dropped.length, assignmentsChanged };
    }, (report) => report.created + report.updated + report.deleted > 0 || report.assignmentsChanged);
  }
}

function toRow(role: Role, source: RoleSource) {
  return {
    name: role.name,
    description: role.description ?? null,
    scope: role.scopes.join(' '),
    resources: JSON.stringify(role.resources),
    source,
  };
}

function toRole(row: Selectable<RolesTable>): Role {
  return Object.freeze({
    name: row.name,
    description: row.description ?? undefined,
    scopes: Object.freeze(row.scope.split(' ').filter((s) => s.length > 0)),
    resources: Object.freeze(JSON.parse(row.resources) as string[]),
    source: row.source as RoleSource,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

function toAssignment(row: Selectable<RoleAssignmentsTable>): RoleAssignment {
  return Object.freeze({ role: row.role, principalType: row.principal_type as PrincipalType, principalId: row.principal_id, source: row.source as RoleSource });
}
