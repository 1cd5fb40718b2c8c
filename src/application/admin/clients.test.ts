import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientEntryRules } from '../../config/client-api.js';
import { roleEntryRules } from '../../config/role-api.js';
import { openDatabase, type Db } from '../../infrastructure/db/database.js';
import { migrate } from '../../infrastructure/db/migrate.js';
import { SqliteClientRepository } from '../../infrastructure/sqlite/client-repository.js';
import { ControlVersion } from '../../infrastructure/sqlite/control-version.js';
import { SqliteRoleRepository } from '../../infrastructure/sqlite/role-repository.js';
import type { AuditEvent } from '../ports/repositories.js';
import { RoleAccess } from '../services/role-access.js';
import type { Actor } from './changes.js';
import { ClientAdmin } from './clients.js';
import { AdminError } from './errors.js';
import { RoleAdmin } from './roles.js';

/** ClientAdmin over the SQLite store and config.yaml's rules: what a merge patch may do to a client's secret and dates. */
const NOW = 1_800_000_000;
const actor: Actor = { id: 'cli:test', admin: true };
const WRITER: Actor = { id: 'client:writer', admin: false };
let db: Db;
let events: AuditEvent[];
/** As container.ts builds it: with RoleAdmin for `roles`, and the scopes roles give. */
let admin: ClientAdmin;
/** Without roles (a body naming some is refused). */
let bare: ClientAdmin;
let roleRepository: SqliteRoleRepository;
let now = NOW;

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (error: unknown) => (error instanceof AdminError ? `${error.kind} ${error.field ?? ''}: ${error.message}` : String(error)),
  );

beforeEach(() => {
  db = openDatabase(':memory:');
  migrate(db.sqlite);
  events = [];
  now = NOW;
  const changes = new ControlVersion(db.sqlite);
  const store = new SqliteClientRepository(db.kysely, () => now, changes);
  const audit = { record: (event: AuditEvent) => void events.push(event), flush: async () => undefined };
  roleRepository = new SqliteRoleRepository(db.kysely, db.sqlite, () => now, changes);
  const access = new RoleAccess(roleRepository);
  const roles = new RoleAdmin({ roles: roleRepository, rules: roleEntryRules, principals: { client: (id) => store.get(id), user: async () => undefined }, audit });
  const deps = { store, rules: clientEntryRules, audit, clock: { now: () => now } };
  admin = new ClientAdmin({
    ...deps,
    roles: { roleScopes: (name) => roleRepository.snapshot().roles.get(name)?.scopes, setClientRoles: (by, clientId, names) => roles.setClientRoles(by, clientId, names) },
    scopesOf: (client) => access.forClient(client).scopes,
  });
  bare = new ClientAdmin(deps);
});
afterEach(() => {
  db.sqlite.close();
});

const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }] };

describe('ClientAdmin.update', () => {
  it('moving a client to a client_secret_* method without a secret generates one, returned once; moving away drops it', async () => {
    await admin.create(actor, { client_id: 'agent', token_endpoint_auth_method: 'private_key_jwt', jwks, grant_types: ['client_credentials'], scope: 'a' });
    const toSecret = await admin.update(actor, 'agent', { token_endpoint_auth_method: 'client_secret_basic', jwks: null });
    expect(toSecret.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = db.sqlite.prepare("SELECT secret_digest FROM clients WHERE client_id = 'agent'").pluck().get();
    expect(stored).toEqual(expect.any(String));
    // A later change keeps the secret (and returns none).
    expect((await admin.update(actor, 'agent', { description: 'x' })).client_secret).toBeUndefined();
    expect(db.sqlite.prepare("SELECT secret_digest FROM clients WHERE client_id = 'agent'").pluck().get()).toBe(stored);
    await admin.update(actor, 'agent', { token_endpoint_auth_method: 'private_key_jwt', jwks });
    expect(db.sqlite.prepare("SELECT secret_digest FROM clients WHERE client_id = 'agent'").pluck().get()).toBeNull();
  });

  it('an expired client may be changed without a new date; a new date must be ahead', async () => {
    await admin.create(actor, { client_id: 'temp', grant_types: ['client_credentials'], scope: 'a', expires_at: new Date((NOW + 10) * 1000).toISOString() });
    now = NOW + 20;
    expect(await refusal(admin.update(actor, 'temp', { description: 'kept' }))).toBe('accepted');
    expect(await refusal(admin.update(actor, 'temp', { expires_at: new Date((NOW + 15) * 1000).toISOString() }))).toBe('invalid_field expires_at: expires_at: must be in the future');
    expect((await admin.update(actor, 'temp', { expires_at: null })).expires_at).toBeNull();
  });

  it('records nothing for a patch that changes nothing; names a field the rules refuse', async () => {
    await admin.create(actor, { client_id: 'same', grant_types: ['client_credentials'], scope: 'a b' });
    events = [];
    await admin.update(actor, 'same', { scope: 'a b' });
    expect(events).toEqual([]);
    expect(await refusal(admin.update(actor, 'same', { redirect_uris: ['https://ok.example/cb', 'javascript:alert(1)'] }))).toBe(
      'invalid_field redirect_uris.1: redirect_uris.1: must be an absolute URL without a fragment',
    );
    expect(await refusal(admin.update(actor, 'same', { client_id: 'other' }))).toBe('invalid_field client_id: client_id: cannot be changed (create a new client)');
    expect(await refusal(bare.update(actor, 'same', { roles: ['x'] }))).toBe('invalid_field roles: roles: cannot be given here: use the roles API');
  });

  it('audits before and after without the secret', async () => {
    const created = await admin.create(actor, { client_id: 'audited', grant_types: ['client_credentials'], scope: 'a' });
    await admin.rotateSecret(actor, 'audited', 60);
    expect(events.map((e) => e.event)).toEqual(['client.created', 'client.secret_rotated']);
    expect(JSON.stringify(events)).not.toContain(created.client_secret);
    expect(events[1]!.details).toEqual({ after: { grace_seconds: 60, previous_secret_expires_at: new Date((NOW + 60) * 1000).toISOString() } });
  });
});

const FORBIDDEN = (clientId: string) => `forbidden : client ${clientId} holds trusty: scopes: only a trusty:admin caller may create or change it`;
const secretClient = (clientId: string, more: Record<string, unknown> = {}) => ({ client_id: clientId, grant_types: ['client_credentials'], scope: 'reports:read', ...more });
const key = jwks.keys[0]!;

describe('ClientAdmin: a trusty: scope held through a role', () => {
  const rolesOf = (clientId: string) => roleRepository.snapshot().assignmentsOf('client', clientId).map((a) => a.role);
  beforeEach(async () => {
    await roleRepository.create({ name: 'ops', description: undefined, scopes: ['trusty:admin'], resources: [], source: 'api' });
    await roleRepository.create({ name: 'reports', description: undefined, scopes: ['reports:write'], resources: [], source: 'api' });
  });

  it('makes the client trusty:admin\'s: a caller without trusty:admin may not change, re-key, disable, enable or delete it', async () => {
    await admin.create(actor, secretClient('ops-bot', { roles: ['ops'] }));
    await admin.create(actor, secretClient('ops-keyed', { token_endpoint_auth_method: 'private_key_jwt', jwks, roles: ['ops'] }));
    await admin.create(actor, secretClient('ops-off', { roles: ['ops'] }));
    await admin.disable(actor, 'ops-off');
    events = [];
    const stored = () => db.sqlite.prepare("SELECT client_id, metadata, secret_digest, disabled_at, updated_at FROM clients WHERE client_id LIKE 'ops-%' ORDER BY client_id").all();
    const before = stored();
    expect(await refusal(admin.rotateSecret(WRITER, 'ops-bot', 0))).toBe(FORBIDDEN('ops-bot'));
    expect(await refusal(admin.update(WRITER, 'ops-bot', { description: 'mine now' }))).toBe(FORBIDDEN('ops-bot'));
    expect(await refusal(admin.update(WRITER, 'ops-bot', { roles: [] }))).toBe(FORBIDDEN('ops-bot'));
    expect(await refusal(admin.replaceJwks(WRITER, 'ops-keyed', { keys: [{ ...key, kid: 'k2' }] }))).toBe(FORBIDDEN('ops-keyed'));
    expect(await refusal(admin.addKey(WRITER, 'ops-keyed', { ...key, kid: 'k2' }))).toBe(FORBIDDEN('ops-keyed'));
    expect(await refusal(admin.disable(WRITER, 'ops-bot'))).toBe(FORBIDDEN('ops-bot'));
    expect(await refusal(admin.enable(WRITER, 'ops-off'))).toBe(FORBIDDEN('ops-off'));
    expect(await refusal(admin.delete(WRITER, 'ops-bot'))).toBe(FORBIDDEN('ops-bot'));
    expect(stored()).toEqual(before);
    expect(events).toEqual([]);
    // trusty:admin may.
    expect(await refusal(admin.rotateSecret(actor, 'ops-bot', 0))).toBe('accepted');
  });

  it('a caller without trusty:admin may not create a client with such a role, nor give one: nothing is written', async () => {
    expect(await refusal(admin.create(WRITER, secretClient('sneaky', { roles: ['ops'] })))).toBe(FORBIDDEN('sneaky'));
    expect(await refusal(admin.get('sneaky'))).toBe('not_found : client sneaky was not found');
    await admin.create(WRITER, secretClient('plain', { roles: ['reports'] }));
    events = [];
    expect(await refusal(admin.update(WRITER, 'plain', { description: 'promoted', roles: ['reports', 'ops'] }))).toBe(FORBIDDEN('plain'));
    expect((await admin.get('plain')).description).toBeNull();
    expect(rolesOf('plain')).toEqual(['reports']);
    expect(events).toEqual([]);
  });

  it('a role that does not exist: 400 naming roles.N, before anything is written or audited', async () => {
    expect(await refusal(admin.create(actor, secretClient('half', { roles: ['reports', 'nope'] })))).toBe('invalid_field roles.1: roles.1: names an unknown role "nope"');
    expect(await refusal(admin.get('half'))).toBe('not_found : client half was not found');
    expect(events).toEqual([]);
    await admin.create(actor, secretClient('kept'));
    events = [];
    expect(await refusal(admin.update(actor, 'kept', { description: 'changed', roles: ['nope'] }))).toBe('invalid_field roles.0: roles.0: names an unknown role "nope"');
    expect((await admin.get('kept')).description).toBeNull();
    expect(events).toEqual([]);
  });

  it('a trusty:admin caller creates and changes such clients; the change and the roles are audited', async () => {
    await admin.create(actor, secretClient('ops-made', { roles: ['ops'] }));
    await admin.update(actor, 'ops-made', { description: 'ops', roles: ['reports'] });
    expect(rolesOf('ops-made')).toEqual(['reports']);
    expect(events.map((e) => e.event)).toEqual(['role.assigned', 'client.created', 'client.updated', 'role.assigned']);
  });
});
