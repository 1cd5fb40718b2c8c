import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { client } from '../../../test/unit/fixtures.js';
import { roleEntryRules } from '../../config/role-api.js';
import type { Client } from '../../domain/client.js';
import { openDatabase, type Db } from '../../infrastructure/db/database.js';
import { migrate } from '../../infrastructure/db/migrate.js';
import { ControlVersion } from '../../infrastructure/sqlite/control-version.js';
import { SqliteRoleRepository } from '../../infrastructure/sqlite/role-repository.js';
import type { AuditEvent } from '../ports/repositories.js';
import { RoleAccess } from '../services/role-access.js';
import type { Actor } from './changes.js';
import { AdminError } from './errors.js';
import { RoleAdmin } from './roles.js';

/** RoleAdmin over the SQLite role repository: the rules the management API and the CLI share. */
const NOW = 1_800_000_000;
const ADMIN: Actor = { id: 'client:admin-bot', admin: true };
const WRITER: Actor = { id: 'client:writer', admin: false };
let db: Db;
let changes: ControlVersion;
let repository: SqliteRoleRepository;
let admin: RoleAdmin;
let events: AuditEvent[];
const machine = client({ clientId: 'machine', grantTypes: ['client_credentials'], scopes: ['invoices:read'], resources: ['https://own.example/'] });
const clients = new Map<string, Client>([['machine', machine]]);
const USER = { id: 'u-1', username: 'alice' };

beforeEach(() => {
  db = openDatabase(':memory:');
  migrate(db.sqlite);
  changes = new ControlVersion(db.sqlite);
  repository = new SqliteRoleRepository(db.kysely, db.sqlite, () => NOW, changes);
  events = [];
  admin = new RoleAdmin({
    roles: repository,
    rules: roleEntryRules,
    principals: {
      client: async (id) => (clients.has(id) ? { client: clients.get(id)!, enabled: true } : undefined),
      user: async (ref) => (ref === USER.id || ref === USER.username ? USER : undefined),
    },
    audit: { record: (event) => void events.push(event), flush: async () => undefined },
  });
});
afterEach(() => {
  db.sqlite.close();
});

/** The AdminError a call throws: its kind, message and field. */
async function refusal(call: () => Promise<unknown>): Promise<{ kind: string; message: string; field?: string | undefined }> {
  try {
    await call();
  } catch (error) {
    if (!(error instanceof AdminError)) throw error;
    return { kind: error.kind, message: error.message, ...(error.field !== undefined ? { field: error.field } : {}) };
  }
  throw new Error('the call was accepted');
}

/** config.yaml role entries (wire names). */
const billing = { name: 'billing', scope: 'invoices:write', resources: ['https://billing.example/'] };
const adminRole = { name: 'ops', scope: 'trusty:admin' };

describe('RoleAdmin: refusals', () => {
  it('refuses a role granting a trusty: scope to an actor without trusty:admin (create, assign, change, delete)', async () => {
    const forbidden = { kind: 'forbidden', message: 'only an actor holding trusty:admin may create, change, delete, give or take a role granting trusty: scopes' };
    expect(await refusal(() => admin.create(WRITER, adminRole))).toEqual(forbidden);
    expect(await refusal(() => admin.create(WRITER, { name: 'sneaky', scope: 'a trusty:clients:read' }))).toEqual(forbidden);
    await admin.create(ADMIN, adminRole);
    await admin.create(WRITER, billing);
    expect(await refusal(() => admin.setClientRoles(WRITER, 'machine', ['ops']))).toEqual(forbidden);
    expect(await refusal(() => admin.update(WRITER, 'billing', { scope: 'trusty:admin' }))).toEqual(forbidden);
    expect(await refusal(() => admin.update(WRITER, 'ops', { scope: 'harmless' }))).toEqual(forbidden);
    expect(await refusal(() => admin.delete(WRITER, 'ops'))).toEqual(forbidden);
    await admin.setClientRoles(ADMIN, 'machine', ['ops']);
    // Taking it away is the admin's too (or a writer could strip the admins).
    expect(await refusal(() => admin.setClientRoles(WRITER, 'machine', []))).toEqual(forbidden);
    expect(repository.snapshot().rolesOf('client', 'machine')).toEqual(['ops']);
  });

  it('refuses bad input naming the field', async () => {
    expect(await refusal(() => admin.create(ADMIN, { name: 'bad name' }))).toEqual({
      kind: 'invalid_field',
      message: 'name: must be 1–64 characters of A–Z a–z 0–9 . _ : -',
      field: 'name',
    });
    expect(await refusal(() => admin.create(ADMIN, { name: 'r', scope: 'a"b' }))).toMatchObject({ field: 'scope' });
    expect(await refusal(() => admin.create(ADMIN, { name: 'r', resources: ['https://ok.example/', '/relative'] }))).toEqual({
      kind: 'invalid_field',
      message: 'resources.1: must be an absolute URL without a fragment',
      field: 'resources.1',
    });
    await admin.create(ADMIN, billing);
    // A change is checked as the whole entry, with config.yaml's rules.
    expect(await refusal(() => admin.update(ADMIN, 'billing', { name: 'other' }))).toEqual({
      kind: 'invalid_field',
      message: 'name: cannot be changed (create a new role)',
      field: 'name',
    });
    expect(await refusal(() => admin.update(ADMIN, 'billing', { colour: 'blue' }))).toEqual({ kind: 'invalid_field', message: 'colour: is not a known field', field: 'colour' });
    expect(await refusal(() => admin.update(ADMIN, 'billing', { resources: ['https://x.example/#f'] }))).toMatchObject({ field: 'resources.0' });
    expect(await refusal(() => admin.update(ADMIN, 'billing', 'scope'))).toEqual({ kind: 'invalid_field', message: 'body: must be a JSON object', field: 'body' });
    expect(await refusal(() => admin.setClientRoles(ADMIN, 'machine', ['billing', 'nope']))).toEqual({
      kind: 'invalid_field',
      message: 'roles.1: names an unknown role "nope"',
      field: 'roles.1',
    });
    expect(await refusal(() => admin.setClientRoles(ADMIN, 'machine', Array.from({ length: 51 }, () => 'billing').map((r, i) => `${r}${i}`)))).toMatchObject({ field: 'roles' });
    expect(await refusal(async () => admin.list({ limit: 10, cursor: '!!' }))).toMatchObject({ kind: 'invalid_field', field: 'cursor' });
  });

  it('refuses duplicates, unknown roles and principals, and config roles (409)', async () => {
    await admin.create(ADMIN, billing);
    expect(await refusal(() => admin.create(ADMIN, billing))).toEqual({ kind: 'conflict', message: 'role billing already exists' });
    expect(await refusal(() => admin.update(ADMIN, 'ghost', {}))).toEqual({ kind: 'not_found', message: 'role ghost was not found' });
    expect(await refusal(() => admin.setClientRoles(ADMIN, 'nobody', []))).toEqual({ kind: 'not_found', message: 'client nobody was not found' });
    expect(await refusal(() => admin.setUserRoles(ADMIN, 'nobody', []))).toEqual({ kind: 'not_found', message: 'user nobody was not found' });
    await repository.seedConfig([{ name: 'from-file', description: undefined, scopes: ['a'], resources: [], source: 'config' }], [
      { role: 'from-file', principalType: 'client', principalId: 'machine' },
    ]);
    const conflict = { kind: 'conflict', message: 'role from-file is declared in config.yaml; change it there' };
    expect(await refusal(() => admin.update(ADMIN, 'from-file', { scope: 'b' }))).toEqual(conflict);
    expect(await refusal(() => admin.delete(ADMIN, 'from-file'))).toEqual(conflict);
    expect(await refusal(() => admin.unassign(ADMIN, 'from-file', { type: 'client', id: 'machine' }))).toEqual({
      kind: 'conflict',
      message: 'role from-file is given to client machine by config.yaml; change it there',
    });
  });
});

describe('RoleAdmin and RoleAccess', () => {
  it('widens what a client may ask for with its roles, at once after a change, and records every change', async () => {
    const access = new RoleAccess(repository);
    const before = access.forClient(machine);
    expect(before).toMatchObject({ scopes: ['invoices:read'], resources: ['https://own.example/'], roles: [] });
    expect(access.forClient(machine)).toBe(before); // cached per client object and snapshot

    await admin.create(WRITER, billing);
    await admin.setClientRoles(WRITER, 'machine', ['billing']);
    const after = access.forClient(machine);
    expect(after.scopes).toEqual(['invoices:read', 'invoices:write']);
    expect(after.resources).toEqual(['https://own.example/', 'https://billing.example/']);
    expect(after.roles).toEqual(['billing']);

    await admin.update(WRITER, 'billing', { scope: 'invoices:pay', description: 'pays' });
    expect(access.forClient(machine).scopes).toEqual(['invoices:read', 'invoices:pay']);
    expect(await admin.clientRoles('machine')).toEqual({
      roles: [{ name: 'billing', source: 'api' }],
      effective: { scope: 'invoices:read invoices:pay', resources: ['https://own.example/', 'https://billing.example/'] },
    });

    await admin.delete(WRITER, 'billing');
    expect(access.forClient(machine)).toMatchObject({ scopes: ['invoices:read'], roles: [] });
    expect(events.map((e) => [e.event, e.actor, e.clientId])).toEqual([
      ['role.created', 'client:writer', undefined],
      ['role.assigned', 'client:writer', 'machine'],
      ['role.updated', 'client:writer', undefined],
      ['role.deleted', 'client:writer', undefined],
    ]);
    expect(events[1]!.details).toEqual({ before: { roles: [] }, after: { roles: ['billing'] } });
    expect(events[2]!.details).toMatchObject({ before: { scope: 'invoices:write', description: null }, after: { scope: 'invoices:pay', description: 'pays' } });
  });

  it('gives and takes single roles to users by username or id, keeping the file\'s', async () => {
    await admin.create(ADMIN, billing);
    await repository.seedConfig([{ name: 'reader', description: undefined, scopes: [], resources: [], source: 'config' }], [
      { role: 'reader', principalType: 'user', principalId: USER.id },
    ]);
    expect(await admin.assign(ADMIN, 'billing', { type: 'user', id: 'alice' })).toEqual({
      roles: [
        { name: 'billing', source: 'api' },
        { name: 'reader', source: 'config' },
      ],
    });
    expect(new RoleAccess(repository).ofUser(USER.id)).toEqual(['billing', 'reader']);
    await admin.assign(ADMIN, 'reader', { type: 'user', id: USER.id }); // also given by the API now
    await admin.unassign(ADMIN, 'reader', { type: 'user', id: USER.id });
    expect((await admin.userRoles('alice')).roles).toEqual([
      { name: 'billing', source: 'api' },
      { name: 'reader', source: 'config' },
    ]);
    expect(await refusal(() => admin.unassign(ADMIN, 'billing', { type: 'client', id: 'machine' }))).toEqual({
      kind: 'not_found',
      message: 'role billing of client machine was not found',
    });
  });

  it('merges a change into the role: what is not given stays, null removes the description', async () => {
    await admin.create(ADMIN, { ...billing, description: 'bills' });
    expect(await admin.update(ADMIN, 'billing', { scope: 'invoices:pay invoices:pay' })).toMatchObject({ description: 'bills', scope: 'invoices:pay', resources: billing.resources });
    expect(await admin.update(ADMIN, 'billing', { description: null, resources: [] })).toMatchObject({ description: null, scope: 'invoices:pay', resources: [] });
  });

  it('pages roles in name order', async () => {
    for (const name of ['c', 'a', 'b']) await admin.create(ADMIN, { name });
    const first = await admin.list({ limit: 2 });
    expect(first.items.map((r) => r.name)).toEqual(['a', 'b']);
    const second = await admin.list({ limit: 2, cursor: first.next_cursor! });
    expect(second).toEqual({
      items: [{ name: 'c', description: null, scope: '', resources: [], source: 'api', created_at: '2027-01-15T08:00:00.000Z', updated_at: '2027-01-15T08:00:00.000Z' }],
      next_cursor: null,
    });
    expect(await refusal(() => admin.list({ limit: 201 }))).toEqual({ kind: 'invalid_field', message: 'limit: must be an integer from 1 to 200', field: 'limit' });
  });
});

describe('SqliteRoleRepository.seedConfig', () => {
  const fileRole = (name: string, scopes: string[] = ['a']) => ({ name, description: undefined, scopes, resources: [], source: 'config' as const });

  it('owns the file\'s roles and assignments only, and is idempotent', async () => {
    await admin.create(ADMIN, billing);
    await admin.setClientRoles(ADMIN, 'machine', ['billing']);
    const first = await repository.seedConfig([fileRole('x'), fileRole('y')], [{ role: 'x', principalType: 'client', principalId: 'machine' }]);
    expect(first).toEqual({ created: 2, updated: 0, unchanged: 0, deleted: 0, assignmentsChanged: true });
    const version = db.sqlite.prepare('SELECT version FROM control_version').pluck().get();
    const again = await repository.seedConfig([fileRole('x'), fileRole('y')], [{ role: 'x', principalType: 'client', principalId: 'machine' }]);
    expect(again).toEqual({ created: 0, updated: 0, unchanged: 2, deleted: 0, assignmentsChanged: false });
    expect(db.sqlite.prepare('SELECT version FROM control_version').pluck().get()).toBe(version); // nothing to reload

    // x dropped from the file: deleted with its assignments; y changed; the API's role and assignment untouched.
    const third = await repository.seedConfig([fileRole('y', ['b'])], []);
    // (x's assignment went with x: the remaining config assignments are already what the file lists.)
    expect(third).toEqual({ created: 0, updated: 1, unchanged: 0, deleted: 1, assignmentsChanged: false });
    const snapshot = repository.snapshot();
    expect([...snapshot.roles.keys()].sort()).toEqual(['billing', 'y']);
    expect(snapshot.roles.get('y')!.scopes).toEqual(['b']);
    expect(snapshot.assignmentsOf('client', 'machine')).toEqual([{ role: 'billing', principalType: 'client', principalId: 'machine', source: 'api' }]);
  });

  it('forgets the roles of a deleted client (a new client with the same id inherits nothing)', async () => {
    db.sqlite.prepare("INSERT INTO clients (client_id, metadata, created_at, updated_at) VALUES ('gone', '{}', 0, 0)").run();
    await admin.create(ADMIN, billing);
    await repository.setAssignments('client', 'gone', ['billing']);
    db.sqlite.prepare("DELETE FROM clients WHERE client_id = 'gone'").run();
    await changes.record(db.kysely);
    expect(repository.snapshot().rolesOf('client', 'gone')).toEqual([]);
  });
});
