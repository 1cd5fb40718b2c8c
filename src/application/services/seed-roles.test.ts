import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../infrastructure/db/database.js';
import { migrate } from '../../infrastructure/db/migrate.js';
import { ControlVersion } from '../../infrastructure/sqlite/control-version.js';
import { SqliteRoleRepository } from '../../infrastructure/sqlite/role-repository.js';
import { SqliteUserRepository } from '../../infrastructure/sqlite/user-repository.js';
import { seedRoles } from './seed-roles.js';

/** config.yaml's roles after its clients and users: users by id, API role names refused. */
const NOW = 1_800_000_000;
let db: Db;
let roles: SqliteRoleRepository;
let users: SqliteUserRepository;
const billing = { name: 'billing', description: undefined, scopes: ['invoices:write'], resources: [], source: 'config' as const };

beforeEach(async () => {
  db = openDatabase(':memory:');
  migrate(db.sqlite);
  const changes = new ControlVersion(db.sqlite);
  roles = new SqliteRoleRepository(db.kysely, db.sqlite, () => NOW, changes);
  users = new SqliteUserRepository(db.kysely, () => NOW, changes);
  await users.upsert({ username: 'alice', passwordHash: 'hash', claims: {} }, 'alice-id', 'config');
});
afterEach(() => {
  db.sqlite.close();
});

describe('seedRoles', () => {
  it('refuses a role name the API already uses, naming the field', async () => {
    await roles.create({ ...billing, source: 'api' });
    await expect(seedRoles({ roles: [billing], clients: [], users: [] }, { roles, users })).rejects.toThrow(
      'config.yaml roles[0].name: "billing" is already a role made through the management API; rename it in config.yaml, or delete the API role first (trusty roles delete billing)',
    );
    expect(roles.snapshot().roles.get('billing')!.source).toBe('api');
  });

  it('gives the file\'s roles to clients by client_id and to users by id', async () => {
    const report = await seedRoles(
      { roles: [billing], clients: [{ clientId: 'svc', roles: ['billing', 'billing'] }], users: [{ username: 'alice', roles: ['billing'] }] },
      { roles, users },
    );
    expect(report).toEqual({ created: 1, updated: 0, unchanged: 0, deleted: 0, assignmentsChanged: true });
    expect(roles.snapshot().rolesOf('client', 'svc')).toEqual(['billing']);
    expect(roles.snapshot().rolesOf('user', 'alice-id')).toEqual(['billing']);
  });
});
