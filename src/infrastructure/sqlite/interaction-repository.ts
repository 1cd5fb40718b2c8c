import type { Kysely } from 'kysely';
import type { InteractionRepository } from '../../application/ports/repositories.js';
import type { AuthorizationRequest, Interaction } from '../../domain/authorization-request.js';
import type { Database } from '../db/schema.js';

export class SqliteInteractionRepository implements InteractionRepository {
  constructor(private readonly db: Kysely<Database>, private readonly clock: () => number) {}

  async create(interaction: Interaction): Promise<void> {
    await this.db
      .insertInto('interactions')
      .values({
        id: interaction.id,
        client_id: interaction.request.clientId,
        params: JSON.stringify(interaction.request),
        csrf_token: interaction.csrfToken,
        user_id: interaction.userId ?? null,
        auth_time: interaction.authTime ?? null,
        created_at: this.clock(),
        expires_at: interaction.expiresAt,
      })
      .execute();
  }

  /** Two index range counts: interactions_client_expires and interactions_expires (migration 0005). */
  async countPending(clientId: string, now: number): Promise<{ client: number; total: number }> {
    const [client, total] = await Promise.all([
      this.db.selectFrom('interactions').select((eb) => eb.fn.countAll<number>().as('n')).where('client_id', '=', clientId).where('expires_at', '>', now).executeTakeFirstOrThrow(),
      this.db.selectFrom('interactions').select((eb) => eb.fn.countAll<number>().as('n')).where('expires_at', '>', now).executeTakeFirstOrThrow(),
    ]);
    return { client: Number(client.n), total: Number(total.n) };
  }

  /** Walks interactions_client_expires (or interactions_expires) from the oldest, skipping signed-in rows. */
  async deleteOldestAnonymous(now: number, clientId?: string): Promise<boolean> {
    let oldest = this.db.selectFrom('interactions').select('id').where('expires_at', '>', now).where('user_id', 'is', null);
    if (clientId !== undefined) oldest = oldest.where('client_id', '=', clientId);
    const result = await this.db.deleteFrom('interactions').where('id', 'in', oldest.orderBy('expires_at').limit(1)).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteExpired(now: number, max: number): Promise<number> {
    const oldest = this.db.selectFrom('interactions').select('id').where('expires_at', '<=', now).orderBy('expires_at').limit(max);
    const result = await this.db.deleteFrom('interactions').where('id', 'in', oldest).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async find(id: string): Promise<Interaction | undefined> {
    const row = await this.db.selectFrom('interactions').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      id: row.id,
      request: JSON.parse(row.params) as AuthorizationRequest,
      csrfToken: row.csrf_token,
      userId: row.user_id ?? undefined,
      authTime: row.auth_time ?? undefined,
      expiresAt: row.expires_at,
    };
  }

  async setAuthenticated(id: string, userId: string, authTime: number): Promise<void> {
    await this.db.updateTable('interactions').set({ user_id: userId, auth_time: authTime }).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('interactions').where('id', '=', id).execute();
  }
}
