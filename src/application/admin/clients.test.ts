import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientEntryRules } from '../../config/client-api.js';
import { openDatabase, type Db } from '../../infrastructure/db/database.js';
import { migrate } from '../../infrastructure/db/migrate.js';
import { SqliteClientRepository } from '../../infrastructure/sqlite/client-repository.js';
import type { AuditEvent } from '../ports/repositories.js';
import type { Actor } from './changes.js';
import { ClientAdmin } from './clients.js';
import { AdminError } from './errors.js';

/** ClientAdmin over the SQLite store and config.yaml's rules: what a merge patch may do to a client's secret and dates. */
const NOW = 1_800_000_000;
const actor: Actor = { id: 'cli:test', admin: true };
let db: Db;
let events: AuditEvent[];
let admin: ClientAdmin;
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
  admin = new ClientAdmin({
    store: new SqliteClientRepository(db.kysely, () => now),
    rules: clientEntryRules,
    audit: { record: (event) => void events.push(event), flush: async () => undefined },
    clock: { now: () => now },
  });
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
    expect(await refusal(admin.update(actor, 'same', { roles: ['x'] }))).toBe('invalid_field roles: roles: cannot be given here: use the roles API');
  });

  it('audits before and after without the secret', async () => {
    const created = await admin.create(actor, { client_id: 'audited', grant_types: ['client_credentials'], scope: 'a' });
    await admin.rotateSecret(actor, 'audited', 60);
    expect(events.map((e) => e.event)).toEqual(['client.created', 'client.secret_rotated']);
    expect(JSON.stringify(events)).not.toContain(created.client_secret);
    expect(events[1]!.details).toEqual({ after: { grace_seconds: 60, previous_secret_expires_at: new Date((NOW + 60) * 1000).toISOString() } });
  });
});
