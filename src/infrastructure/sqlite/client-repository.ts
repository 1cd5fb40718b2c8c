import type { Kysely } from 'kysely';
import type { ClientRepository } from '../../application/ports/repositories.js';
import type { Client } from '../../domain/client.js';
import type { Database } from '../db/schema.js';

type StoredMetadata = Omit<Client, 'secretDigest'>;

/** Clients in SQLite, cached in memory: the token endpoint reads a client on every request. */
export class SqliteClientRepository implements ClientRepository {
  private cache: Map<string, Client> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number,
  ) {}

  async findById(clientId: string): Promise<Client | undefined> {
    return (await this.all()).get(clientId);
  }

  async list(): Promise<Client[]> {
    return [...(await this.all()).values()];
  }

  async upsert(client: Client): Promise<'created' | 'updated' | 'unchanged'> {
    const { secretDigest, ...metadata } = client;
    const json = JSON.stringify(metadata satisfies StoredMetadata);
    const now = this.clock();
    const existing = await this.db
      .selectFrom('clients')
      .select(['metadata', 'secret_digest'])
      .where('client_id', '=', client.clientId)
      .executeTakeFirst();
    let outcome: 'created' | 'updated' | 'unchanged';
    if (existing === undefined) {
      await this.db
        .insertInto('clients')
        .values({ client_id: client.clientId, metadata: json, secret_digest: secretDigest ?? null, created_at: now, updated_at: now })
        .execute();
      outcome = 'created';
    } else if (existing.metadata === json && existing.secret_digest === (secretDigest ?? null)) {
      outcome = 'unchanged';
    } else {
      await this.db
        .updateTable('clients')
        .set({ metadata: json, secret_digest: secretDigest ?? null, updated_at: now })
        .where('client_id', '=', client.clientId)
        .execute();
      outcome = 'updated';
    }
    this.cache = undefined; // invalidate: the next read reloads
    return outcome;
  }

  private async all(): Promise<Map<string, Client>> {
    if (this.cache) return this.cache;
    const rows = await this.db.selectFrom('clients').selectAll().execute();
    const cache = new Map<string, Client>();
    for (const row of rows) {
      const metadata = JSON.parse(row.metadata) as StoredMetadata;
      cache.set(row.client_id, Object.freeze({ ...metadata, secretDigest: row.secret_digest ?? undefined }));
    }
    this.cache = cache;
    return cache;
  }
}
