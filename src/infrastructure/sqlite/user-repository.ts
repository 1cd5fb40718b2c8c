import { sql, type Kysely, type Selectable } from 'kysely';
import type { RecordSource, RevokedCounts, UpsertOutcome, UserFilter, UserRepository } from '../../application/ports/repositories.js';
import type { User, UserRecord } from '../../domain/user.js';
import type { Database, UsersTable } from '../db/schema.js';
import { controlWrite, type ChangeRecorder } from './control-write.js';
import { endGrantsOf, inChunks, revokeTokensOf } from './end-grants.js';

/**
 * Users read by id (userinfo, every token request, every user access token checked) are cached;
 * any change, this process's or another's (ControlVersion.poll), clears the cache.
 */
const USER_CACHE_SIZE = 10_000;

type Row = Selectable<UsersTable>;

export class SqliteUserRepository implements UserRepository {
  /** null: the row exists but is disabled (remembered too, so a disabled user's tokens cost no query). */
  private readonly byId = new Map<string, User | null>();
  /** The ids of disabled users, loaded once and after each change: few, and read on every token check. */
  private disabled: ReadonlySet<string> | undefined;
  /** Bumped by every invalidation: a read that raced with a change is not kept. */
  private generation = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number,
    private readonly changes?: ChangeRecorder,
  ) {
    changes?.onChange(() => this.invalidate());
  }

  async findById(id: string): Promise<User | undefined> {
    const cached = this.byId.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const generation = this.generation;
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) return undefined;
    const user = row.disabled_at === null ? toUser(row) : null;
    if (generation === this.generation) {
      if (this.byId.size >= USER_CACHE_SIZE) this.byId.delete(this.byId.keys().next().value!);
      this.byId.set(id, user);
    }
    return user ?? undefined;
  }

  async isDisabled(id: string): Promise<boolean> {
    if (this.disabled === undefined) {
      const generation = this.generation;
      const ids = new Set((await this.db.selectFrom('users').select('id').where('disabled_at', 'is not', null).execute()).map((row) => row.id));
      if (generation !== this.generation) return ids.has(id); // a change raced this read: answer, keep nothing
      this.disabled = ids;
    }
    return this.disabled.has(id);
  }

  async findByUsername(username: string, options: { includeDisabled?: boolean } = {}): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row !== undefined && (row.disabled_at === null || options.includeDisabled === true) ? toUser(row) : undefined;
  }

  async upsert(user: Omit<User, 'id'>, newId: string, source: RecordSource): Promise<UpsertOutcome | 'taken'> {
    const claims = JSON.stringify(user.claims);
    return this.write(async (trx, now) => {
      const existing = await trx.selectFrom('users').selectAll().where('username', '=', user.username).executeTakeFirst();
      if (existing === undefined) {
        await trx
          .insertInto('users')
          .values({ id: newId, username: user.username, password_hash: user.passwordHash, claims, source, created_at: now, updated_at: now })
          .execute();
        return 'created';
      }
      if (existing.source !== source) return 'taken';
      if (existing.password_hash === user.passwordHash && existing.claims === claims && existing.disabled_at === null) return 'unchanged';
      await trx
        .updateTable('users')
        .set({ password_hash: user.passwordHash, claims, updated_at: now, disabled_at: null })
        .where('id', '=', existing.id)
        .execute();
      return existing.disabled_at === null ? 'updated' : 'enabled';
    }, (outcome) => outcome !== 'unchanged' && outcome !== 'taken');
  }

  async disableAllExcept(source: RecordSource, keep: readonly string[]): Promise<string[]> {
    const kept = new Set(keep);
    return this.write(async (trx, now) => {
      const enabled = await trx.selectFrom('users').select(['id', 'username']).where('source', '=', source).where('disabled_at', 'is', null).execute();
      const ids = enabled.filter((row) => !kept.has(row.username)).map((row) => row.id);
      await inChunks(ids, (chunk) => trx.updateTable('users').set({ disabled_at: now, updated_at: now }).where('id', 'in', chunk).execute());
      await endGrantsOf(trx, 'user_id', ids, now);
      return ids;
    }, (ids) => ids.length > 0);
  }

  async findRecord(id: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async findRecordByUsername(username: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && toRecord(row);
  }

  async list(filter: UserFilter, limit: number, after?: string): Promise<UserRecord[]> {
    let select = this.db.selectFrom('users').selectAll().orderBy('username').limit(limit);
    if (after !== undefined) select = select.where('username', '>', after);
    if (filter.source !== undefined) select = select.where('source', '=', filter.source);
    if (filter.enabled !== undefined) select = select.where('disabled_at', filter.enabled ? 'is' : 'is not', null);
    if (filter.usernamePrefix !== undefined) {
      const prefix = filter.usernamePrefix;
      // An exact, case-sensitive prefix (LIKE would treat _ and % as wildcards and ignore case);
      // the lower bound lets the username index start there. substr counts characters, not UTF-16 units.
      select = select.where('username', '>=', prefix).where(sql<boolean>`substr(username, 1, ${[...prefix].length}) = ${prefix}`);
    }
    return (await select.execute()).map(toRecord);
  }

  async create(user: { readonly id: string; readonly username: string; readonly passwordHash: string; readonly claims: Record<string, unknown> }): Promise<boolean> {
    return this.write(async (trx, now) => {
      const inserted = await trx
        .insertInto('users')
        .values({ id: user.id, username: user.username, password_hash: user.passwordHash, claims: JSON.stringify(user.claims), source: 'api', created_at: now, updated_at: now })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      return inserted.numInsertedOrUpdatedRows === 1n;
    }, (created) => created);
  }

  async updateClaims(id: string, change: (user: UserRecord) => Record<string, unknown>): Promise<{ before: UserRecord; after: UserRecord } | undefined> {
    // Read, changed and written under the write lock: a concurrent change (this process's or
    // another's) waits for this one and then starts from what it wrote, so none is lost.
    return this.write(async (trx, now) => {
      const row = await trx.selectFrom('users').selectAll().where('id', '=', id).where('source', '=', 'api').executeTakeFirst();
      if (row === undefined) return undefined;
      const before = toRecord(row);
      const claims = change(before);
      const after = await trx
        .updateTable('users')
        .set({ claims: JSON.stringify(claims), updated_at: now })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { before, after: toRecord(after) };
    }, (changed) => changed !== undefined);
  }

  async disable(id: string): Promise<RevokedCounts | undefined> {
    return this.write(async (trx, now) => {
      const updated = await trx
        .updateTable('users')
        .set({ disabled_at: now, updated_at: now })
        .where('id', '=', id)
        .where('source', '=', 'api')
        .where('disabled_at', 'is', null)
        .executeTakeFirst();
      return updated.numUpdatedRows === 1n ? endGrantsOf(trx, 'user_id', [id], now) : undefined;
    }, (ended) => ended !== undefined);
  }

  async enable(id: string): Promise<boolean> {
    return this.write(async (trx, now) => {
      const updated = await trx
        .updateTable('users')
        .set({ disabled_at: null, updated_at: now })
        .where('id', '=', id)
        .where('source', '=', 'api')
        .where('disabled_at', 'is not', null)
        .executeTakeFirst();
      return updated.numUpdatedRows === 1n;
    }, (enabled) => enabled);
  }

  async setPassword(id: string, passwordHash: string): Promise<RevokedCounts | undefined> {
    return this.write(async (trx, now) => {
      const updated = await trx
        .updateTable('users')
        .set({ password_hash: passwordHash, updated_at: now })
        .where('id', '=', id)
        .where('source', '=', 'api')
        .executeTakeFirst();
      // Whoever knew the old password may have signed in with it: what they got ends too.
      return updated.numUpdatedRows === 1n ? revokeTokensOf(trx, 'user_id', [id], now) : undefined;
    }, (ended) => ended !== undefined);
  }

  /** A control-plane write (controlWrite): every process drops its user caches when it changed something. */
  private async write<T>(work: (trx: Kysely<Database>, now: number) => Promise<T>, changed: (result: T) => boolean): Promise<T> {
    const now = this.clock();
    return controlWrite(this.db, this.changes, (trx) => work(trx, now), changed, () => this.invalidate());
  }

  private invalidate(): void {
    this.generation++;
    this.byId.clear();
    this.disabled = undefined;
  }
}

function toUser(row: Row): User {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    claims: JSON.parse(row.claims) as Record<string, unknown>,
  };
}

function toRecord(row: Row): UserRecord {
  return {
    id: row.id,
    username: row.username,
    claims: JSON.parse(row.claims) as Record<string, unknown>,
    source: row.source === 'api' ? 'api' : 'config',
    enabled: row.disabled_at === null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
