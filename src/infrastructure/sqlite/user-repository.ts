import type { Kysely, Selectable } from 'kysely';
import type { UserRepository } from '../../application/ports/repositories.js';
import type { User } from '../../domain/user.js';
import type { Database, UsersTable } from '../db/schema.js';

/** Users read by id (userinfo, every token request) are cached; any upsert clears the cache. */
const USER_CACHE_SIZE = 10_000;

export class SqliteUserRepository implements UserRepository {
  private readonly byId = new Map<string, User>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number,
  ) {}

  async findById(id: string): Promise<User | undefined> {
    const cached = this.byId.get(id);
    if (cached !== undefined) return cached;
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) return undefined;
    const user = toUser(row);
    if (this.byId.size >= USER_CACHE_SIZE) this.byId.delete(this.byId.keys().next().value!);
    this.byId.set(id, user);
    return user;
  }

  async findByUsername(username: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && toUser(row);
  }

  async upsert(user: Omit<User, 'id'>, newId: string): Promise<'created' | 'updated' | 'unchanged'> {
    this.byId.clear();
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
    if (existing.password_hash === user.passwordHash && existing.claims === claims) return 'unchanged';
    await this.db
      .updateTable('users')
      .set({ password_hash: user.passwordHash, claims, updated_at: now })
      .where('id', '=', existing.id)
      .execute();
    return 'updated';
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
