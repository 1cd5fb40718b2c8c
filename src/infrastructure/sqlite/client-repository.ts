import { sql, type Kysely, type Selectable } from 'kysely';
import type {
  ClientQuery,
  ClientRecord,
  ClientRepository,
  ClientStore,
  ClientWrite,
  RecordSource,
  UpsertOutcome,
} from '../../application/ports/repositories.js';
import type { Client } from '../../domain/client.js';
import type { ClientsTable, Database } from '../db/schema.js';
import { controlWrite, type ChangeRecorder } from './control-write.js';
import { endGrantsOf, inChunks } from './end-grants.js';

/** The metadata column: the domain Client minus what has a column of its own. */
type StoredMetadata = Omit<Client, 'secretDigest' | 'enabledSince' | 'previousSecret' | 'expiresAt'>;
type Row = Selectable<ClientsTable>;

/**
 * Clients in SQLite; the enabled ones are cached in memory: the token endpoint, introspection and
 * every access token check read a client on every request. Disabled rows are never loaded. Any
 * change (this process's, or another's noticed by ControlVersion.poll) drops the cache; the next
 * read reloads it and keeps the Client objects of unchanged rows, so caches keyed by them (the
 * client key sets) survive a reload.
 */
export class SqliteClientRepository implements ClientRepository, ClientStore {
  private cache: Map<string, Client> | undefined;
  /** Bumped by every invalidation: a load that raced with a change is not kept. */
  private generation = 0;
  private loading: { generation: number; promise: Promise<Map<string, Client>> } | undefined;
  /** Each loaded row's content, to reuse its Client object when the row did not change. */
  private loaded = new Map<string, { fingerprint: string; client: Client }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number,
    /** The change counter (ControlVersion): bumped in every write transaction; its listeners drop the cache. */
    private readonly changes?: ChangeRecorder,
  ) {
    changes?.onChange(() => this.invalidate());
  }

  async findById(clientId: string): Promise<Client | undefined> {
    return (await this.all()).get(clientId);
  }

  async list(): Promise<Client[]> {
    return [...(await this.all()).values()];
  }

  async upsert(client: Client, source: RecordSource): Promise<UpsertOutcome | 'taken'> {
    const json = JSON.stringify(metadataOf(client));
    const secretDigest = client.secretDigest ?? null;
    const outcome = await this.write(async (trx, now) => {
      const existing = await trx
        .selectFrom('clients')
        .select(['metadata', 'secret_digest', 'disabled_at', 'source', 'expires_at', 'previous_secret_digest'])
        .where('client_id', '=', client.clientId)
        .executeTakeFirst();
      if (existing === undefined) {
        await trx.insertInto('clients').values({ ...columnsOf(client), client_id: client.clientId, source, created_at: now, updated_at: now, enabled_at: now }).execute();
        return 'created';
      }
      if (existing.source !== source) return 'taken';
      const same =
        existing.metadata === json &&
        existing.secret_digest === secretDigest &&
        existing.expires_at === (client.expiresAt ?? null) &&
        existing.previous_secret_digest === (client.previousSecret?.digest ?? null);
      if (same && existing.disabled_at === null) return 'unchanged';
      await trx
        .updateTable('clients')
        .set({ ...columnsOf(client), updated_at: now, disabled_at: null, ...(existing.disabled_at !== null ? { enabled_at: enabledAt(now, existing.disabled_at) } : {}) })
        .where('client_id', '=', client.clientId)
        .execute();
      return existing.disabled_at === null ? 'updated' : 'enabled';
    }, (result) => result !== 'unchanged' && result !== 'taken');
    return outcome;
  }

  async disableAllExcept(source: RecordSource, keep: readonly string[]): Promise<string[]> {
    const kept = new Set(keep);
    return this.write(async (trx, now) => {
      const enabled = await trx.selectFrom('clients').select('client_id').where('source', '=', source).where('disabled_at', 'is', null).execute();
      const ids = enabled.map((row) => row.client_id).filter((id) => !kept.has(id));
      if (ids.length === 0) return ids;
      await inChunks(ids, (chunk) => trx.updateTable('clients').set({ disabled_at: now, updated_at: now }).where('client_id', 'in', chunk).execute());
      await endGrantsOf(trx, 'client_id', ids, now);
      return ids;
    }, (ids) => ids.length > 0);
  }

  async page(query: ClientQuery): Promise<ClientRecord[]> {
    let select = this.db.selectFrom('clients').selectAll().orderBy('client_id').limit(query.limit);
    if (query.after !== undefined) select = select.where('client_id', '>', query.after);
    if (query.source !== undefined) select = select.where('source', '=', query.source);
    if (query.kind !== undefined) select = select.where('kind', '=', query.kind);
    if (query.enabled !== undefined) select = select.where('disabled_at', query.enabled ? 'is' : 'is not', null);
    if (query.idPrefix !== undefined) {
      const prefix = query.idPrefix;
      // An exact, case-sensitive prefix (LIKE would treat _ and % as wildcards and ignore case).
      select = select.where(sql<boolean>`substr(client_id, 1, ${prefix.length}) = ${prefix}`);
    }
    if (query.grantType !== undefined) {
      select = select.where(sql<boolean>`exists (select 1 from json_each(clients.metadata, '$.grantTypes') where value = ${query.grantType})`);
    }
    return (await select.execute()).map(toRecord);
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const row = await this.db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  async insert(write: ClientWrite, source: RecordSource): Promise<boolean> {
    const { client } = write;
    return this.write(async (trx, now) => {
      const result = await trx
        .insertInto('clients')
        .values({
          ...columnsOf(client),
          client_id: client.clientId,
          source,
          kind: write.kind,
          owner: write.owner ?? null,
          description: write.description ?? null,
          created_at: now,
          updated_at: now,
          // Tokens of a deleted client of the same client_id (client_credentials ones are not recorded) stay dead.
          enabled_at: now,
          disabled_at: write.enabled ? null : now,
        })
        .onConflict((oc) => oc.column('client_id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    }, (inserted) => inserted);
  }

  async modify(clientId: string, change: (current: ClientRecord) => ClientWrite | undefined): Promise<{ before: ClientRecord; after: ClientRecord } | undefined> {
    const result = await this.write(async (trx, now) => {
      const row = await trx.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
      if (row === undefined) return undefined;
      const before = toRecord(row);
      const next = change(before);
      if (next === undefined) return { before, after: before, changed: false };
      const wasEnabled = row.disabled_at === null;
      const enabledSince = restamped(row, next, now);
      await trx
        .updateTable('clients')
        .set({
          ...columnsOf(next.client),
          kind: next.kind,
          owner: next.owner ?? null,
          description: next.description ?? null,
          updated_at: now,
          ...(wasEnabled && !next.enabled ? { disabled_at: now } : {}),
          ...(!wasEnabled && next.enabled ? { disabled_at: null } : {}),
          ...(enabledSince !== undefined ? { enabled_at: enabledSince } : {}),
        })
        .where('client_id', '=', clientId)
        .execute();
      if (wasEnabled && !next.enabled) await endGrantsOf(trx, 'client_id', [clientId], now);
      const after = await trx.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirstOrThrow();
      return { before, after: toRecord(after), changed: true };
    }, (result) => result?.changed === true);
    return result && { before: result.before, after: result.after };
  }

  async delete(clientId: string, check: (current: ClientRecord) => void): Promise<ClientRecord | undefined> {
    return this.write(async (trx, now) => {
      const row = await trx.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
      if (row === undefined) return undefined;
      const record = toRecord(row);
      check(record);
      await trx.deleteFrom('clients').where('client_id', '=', clientId).execute();
      await endGrantsOf(trx, 'client_id', [clientId], now);
      return record;
    }, (record) => record !== undefined);
  }

  /**
   * A control-plane write (control-write.ts): an IMMEDIATE transaction, the change recorded in it
   * when `changed` says it wrote something, and this process's cache dropped after the commit.
   */
  private async write<T>(work: (trx: Kysely<Database>, now: number) => Promise<T>, changed: (result: T) => boolean): Promise<T> {
    const now = this.clock();
    return controlWrite(this.db, this.changes, (trx) => work(trx, now), changed, () => this.invalidate());
  }

  private invalidate(): void {
    this.generation++;
    this.cache = undefined;
  }

  /** The cache, or one load shared by every request that finds it empty (not one table read each). */
  private async all(): Promise<Map<string, Client>> {
    if (this.cache) return this.cache;
    if (this.loading === undefined || this.loading.generation !== this.generation) {
      const generation = this.generation;
      const promise = this.load(generation);
      this.loading = { generation, promise };
      const done = () => {
        if (this.loading?.promise === promise) this.loading = undefined;
      };
      promise.then(done, done);
    }
    return this.loading.promise;
  }

  private async load(generation: number): Promise<Map<string, Client>> {
    const rows = await this.db.selectFrom('clients').selectAll().where('disabled_at', 'is', null).execute();
    const cache = new Map<string, Client>();
    const loaded = new Map<string, { fingerprint: string; client: Client }>();
    for (const row of rows) {
      const fingerprint = fingerprintOf(row);
      const previous = this.loaded.get(row.client_id);
      const client = previous?.fingerprint === fingerprint ? previous.client : toClient(row);
      cache.set(row.client_id, client);
      loaded.set(row.client_id, { fingerprint, client });
    }
    // A change committed while this load ran may be missing from it: serve it once, keep nothing.
    if (generation !== this.generation) return cache;
    this.loaded = loaded;
    this.cache = cache;
    return cache;
  }
}

/**
 * enabled_at when a client disabled at `disabledAt` is enabled at `now`: the verifier refuses
 * tokens whose iat is before it, and a token issued in the second of the disable, before it,
 * has iat = disabledAt: enabling within that second must not revive it.
 */
function enabledAt(now: number, disabledAt: number): number {
  return Math.max(now, disabledAt + 1);
}

/**
 * The new enabled_at of a change, if it needs one: enabling (see enabledAt), or moving the expiry
 * of an expired client ahead or removing it. Its tokens from before the expiry must stay dead:
 * none was issued from expires_at on (the client authenticator refuses an expired client), so
 * enabled_at becomes at least the old expires_at.
 */
function restamped(row: Row, next: ClientWrite, now: number): number | undefined {
  let since: number | undefined;
  if (row.disabled_at !== null && next.enabled) since = enabledAt(now, row.disabled_at);
  const expired = row.expires_at !== null && row.expires_at <= now;
  const revived = expired && (next.client.expiresAt === undefined || next.client.expiresAt > now);
  if (revived) since = Math.max(since ?? row.enabled_at ?? 0, row.expires_at!);
  return since;
}

function metadataOf(client: Client): StoredMetadata {
  const { secretDigest: _secret, enabledSince: _enabled, previousSecret: _previous, expiresAt: _expires, ...metadata } = client;
  return metadata;
}

/** The columns a Client sets (not the times, state or admin fields). */
function columnsOf(client: Client) {
  return {
    metadata: JSON.stringify(metadataOf(client)),
    secret_digest: client.secretDigest ?? null,
    previous_secret_digest: client.previousSecret?.digest ?? null,
    previous_secret_expires_at: client.previousSecret?.expiresAt ?? null,
    expires_at: client.expiresAt ?? null,
  };
}

function fingerprintOf(row: Row): string {
  return JSON.stringify([row.metadata, row.secret_digest, row.enabled_at, row.previous_secret_digest, row.previous_secret_expires_at, row.expires_at]);
}

function toClient(row: Row): Client {
  const metadata = JSON.parse(row.metadata) as StoredMetadata;
  return Object.freeze({
    ...metadata,
    secretDigest: row.secret_digest ?? undefined,
    enabledSince: row.enabled_at ?? undefined,
    previousSecret:
      row.previous_secret_digest !== null && row.previous_secret_expires_at !== null
        ? Object.freeze({ digest: row.previous_secret_digest, expiresAt: row.previous_secret_expires_at })
        : undefined,
    expiresAt: row.expires_at ?? undefined,
  });
}

function toRecord(row: Row): ClientRecord {
  return {
    client: toClient(row),
    source: row.source === 'api' ? 'api' : 'config',
    kind: row.kind === 'service_account' ? 'service_account' : 'client',
    enabled: row.disabled_at === null,
    owner: row.owner ?? undefined,
    description: row.description ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
