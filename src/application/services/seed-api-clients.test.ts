import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { client } from '../../../test/unit/fixtures.js';
import { openDatabase, type Db } from '../../infrastructure/db/database.js';
import { migrate } from '../../infrastructure/db/migrate.js';
import { SqliteClientRepository } from '../../infrastructure/sqlite/client-repository.js';
import { SqliteUserRepository } from '../../infrastructure/sqlite/user-repository.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import { seed } from './seed.js';

/** Issue 13 item 2: the seed and API-made clients; the file never touches them, nor takes their client_id. */
const NOW = 1_800_000_000;
let db: Db;
const passwords = { hash: async (p: string) => p, verify: async (p: string, h: string) => p === h } as PasswordHasher;

beforeEach(() => {
  db = openDatabase(':memory:');
  migrate(db.sqlite);
});
afterEach(() => {
  db.sqlite.close();
});

describe('seed and API clients', () => {
  it('refuses to start when config.yaml declares a client_id an API client holds, naming clients[i].client_id', async () => {
    const clients = new SqliteClientRepository(db.kysely, () => NOW);
    const users = new SqliteUserRepository(db.kysely, () => NOW);
    await clients.insert({ client: client({ clientId: 'agent', scopes: ['api'] }), kind: 'service_account', enabled: true, owner: 'ops', description: undefined }, 'api');
    await expect(seed({ clients: [client({ clientId: 'web' }), client({ clientId: 'agent' })], users: [] }, { clients, users, passwords })).rejects.toThrow(
      'config.yaml clients[1].client_id: "agent" is already a client made through the management API; rename it in config.yaml, or delete the API client first (trusty clients delete agent)',
    );
    expect((await clients.get('agent'))!).toMatchObject({ source: 'api', enabled: true, client: { scopes: ['api'] } });
  });

  it('never disables, changes or enables an API client', async () => {
    const clients = new SqliteClientRepository(db.kysely, () => NOW);
    const users = new SqliteUserRepository(db.kysely, () => NOW);
    await clients.insert({ client: client({ clientId: 'on' }), kind: 'client', enabled: true, owner: undefined, description: undefined }, 'api');
    await clients.insert({ client: client({ clientId: 'off' }), kind: 'client', enabled: false, owner: undefined, description: undefined }, 'api');
    const report = await seed({ clients: [client({ clientId: 'web' })], users: [] }, { clients, users, passwords });
    expect(report.disabled.clients).toEqual([]);
    expect((await clients.get('on'))!.enabled).toBe(true);
    expect((await clients.get('off'))!.enabled).toBe(false);
  });
});
