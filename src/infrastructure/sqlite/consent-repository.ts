import type { Kysely } from 'kysely';
import type { ConsentRepository } from '../../application/ports/repositories.js';
import type { Database } from '../db/schema.js';

export class SqliteConsentRepository implements ConsentRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async findGranted(userId: string, clientId: string): Promise<readonly string[]> {
    const row = await this.db
      .selectFrom('consents')
      .select('scope')
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row ? row.scope.split(' ').filter(Boolean) : [];
  }

  async grant(userId: string, clientId: string, scopes: readonly string[], now: number): Promise<void> {
    const merged = new Set([...(await this.findGranted(userId, clientId)), ...scopes]);
    const scope = [...merged].join(' ');
    await this.db
      .insertInto('consents')
      .values({ user_id: userId, client_id: clientId, scope, granted_at: now })
      .onConflict((oc) => oc.columns(['user_id', 'client_id']).doUpdateSet({ scope, granted_at: now }))
      .execute();
  }
}
