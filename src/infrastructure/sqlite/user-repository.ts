import type { Kysely, Selectable } from 'kysely';
import type { RecordSource, UpsertOutcome, UserRepository } from '../../application/ports/repositories.js';
import type { User } from '../../domain/user.js';
import type { Database, UsersTable } from '../db/schema.js';
import { endGrantsOf, inChunks } from './end-grants.js';

/**
 * Users read by id (userinfo, every token request, every user access token checked) are cached;
 * any upsert or disable clears the cache.
 */
const USER_CACHE_SIZE = 10_000;

export class SqliteUserRepository implements UserRepository {
  /** null: the row exists but is disabled (remembered too, so a disabled user's tokens cost no query). */
  private readonly byId = new Map<string, User | null>();
  /** The ids of disabled users, loaded once and after each change: few, and read on every token check. */
  private disabled: ReadonlySet<string> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number,
  ) {}

  async findById(id: string): Promise<User | undefined> {
    const cached = this.byId.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) return undefined;
    const user = row.disabled_at === null ? toUser(row) : null;
    if (this.byId.size >= USER_CACHE_SIZE) this.byId.delete(this.byId.keys().next().value!);
    this.byId.set(id, user);
    return user ?? undefined;
  }

  async isDisabled(id: string): Promise<boolean> {
    this.disabled ??= new Set((await this.db.selectFrom('users').select('id').where('disabled_at', 'is not', null).execute()).map((row) => row.id));
    return this.disabled.has(id);
  }

  async findByUsername(username: string, options: { includeDisabled?: boolean } = {}): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row !== undefined && (row.disabled_at === null || options.includeDisabled === true) ? toUser(row) : undefined;
  }

  async upsert(user: Omit<User, 'id'>, newId: string): Promise<UpsertOutcome> {
    this.byId.clear();
    this.disabled = undefined;
    const now = this.clock();
    const claims = JSON.stringify(user.claims);
    const existing = await this.db.selectFrom('users').selectAll().where('username', '=', user.username).executeTakeFirst();
    if (existing === undefined) {
      await this.db
        .insertInto('users')
        .values({ id: newId, username: user.username, password_hash: user.passwordHash, claims, created_at: now, updated_at: now })
        .execute();
      return 'created';
    }
    if (existing.password_hash === user.passwordHash && existing.claims === claims && existing.disabled_at === null) return 'unchanged';
    await this.db
      .updateTable('users')
      .set({ password_hash: user.passwordHash, claims, updated_at: now, disabled_at: null })
      .where('id', '=', existing.id)
      .execute();
    return existing.disabled_at === null ? 'updated' : 'enabled';
  }

  async disableAllExcept(source: RecordSource, keep: readonly string[]): Promise<string[]> {
    const kept = new Set(keep);
    const now = this.clock();
    const disabled = await this.db.transaction().execute(async (trx) => {
      const enabled = await trx.selectFrom('users').select(['id', 'username']).where('source', '=', source).where('disabled_at', 'is', null).execute();
      const ids = enabled.filter((row) => !kept.has(row.username)).map((row) => row.id);
      await inChunks(ids, (chunk) => trx.updateTable('users').set({ disabled_at: now, updated_at: now }).where('id', 'in', chunk).execute());
      await endGrantsOf(trx, 'user_id', ids, now);
      return ids;
    });
    if (disabled.length > 0) {
      this.byId.clear();
      this.disabled = undefined;
    }
    return disabled;
  }
}

function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    claims: JSON.parse(row.claims) as Record<string, unknown>,
  };
}
