import type { Kysely } from 'kysely';
import type { ClientRepository, RecordSource, UpsertOutcome } from '../../application/ports/repositories.js';
import type { Client } from '../../domain/client.js';
import type { Database } from '../db/schema.js';
import { endGrantsOf, inChunks } from './end-grants.js';

type StoredMetadata = Omit<Client, 'secretDigest' | 'enabledSince'>;

/**
 * Clients in SQLite; the enabled ones are cached in memory: the token endpoint, introspection and
 * every access token check read a client on every request. Disabled rows are never loaded.
 */
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

  async upsert(client: Client): Promise<UpsertOutcome> {
    const { secretDigest, enabledSince: _enabledSince, ...metadata } = client;
    const json = JSON.stringify(metadata satisfies StoredMetadata);
    const now = this.clock();
    const existing = await this.db
      .selectFrom('clients')
      .select(['metadata', 'secret_digest', 'disabled_at'])
      .where('client_id', '=', client.clientId)
      .executeTakeFirst();
    let outcome: UpsertOutcome;
    if (existing === undefined) {
      await this.db
        .insertInto('clients')
        .values({ client_id: client.clientId, metadata: json, secret_digest: secretDigest ?? null, created_at: now, updated_at: now })
        .execute();
      outcome = 'created';
    } else if (existing.metadata === json && existing.secret_digest === (secretDigest ?? null) && existing.disabled_at === null) {
      outcome = 'unchanged';
    } else {
      await this.db
        .updateTable('clients')
        .set({ metadata: json, secret_digest: secretDigest ?? null, updated_at: now, disabled_at: null, ...(existing.disabled_at !== null ? { enabled_at: now } : {}) })
        .where('client_id', '=', client.clientId)
        .execute();
      outcome = existing.disabled_at === null ? 'updated' : 'enabled';
    }
    this.cache = undefined; // invalidate: the next read reloads
    return outcome;
  }

  async disableAllExcept(source: RecordSource, keep: readonly string[]): Promise<string[]> {
    const kept = new Set(keep);
    const now = this.clock();
    const disabled = await this.db.transaction().execute(async (trx) => {
      const enabled = await trx.selectFrom('clients').select('client_id').where('source', '=', source).where('disabled_at', 'is', null).execute();
      const ids = enabled.map((row) => row.client_id).filter((id) => !kept.has(id));
      if (ids.length === 0) return ids;
      await inChunks(ids, (chunk) => trx.updateTable('clients').set({ disabled_at: now, updated_at: now }).where('client_id', 'in', chunk).execute());
      await endGrantsOf(trx, 'client_id', ids, now);
      return ids;
    });
    if (disabled.length > 0) this.cache = undefined;
    return disabled;
  }

  private async all(): Promise<Map<string, Client>> {
    if (this.cache) return this.cache;
    const rows = await this.db.selectFrom('clients').selectAll().where('disabled_at', 'is', null).execute();
    const cache = new Map<string, Client>();
    for (const row of rows) {
      const metadata = JSON.parse(row.metadata) as StoredMetadata;
      cache.set(row.client_id, Object.freeze({ ...metadata, secretDigest: row.secret_digest ?? undefined, enabledSince: row.enabled_at ?? undefined }));
    }
    this.cache = cache;
    return cache;
  }
}
