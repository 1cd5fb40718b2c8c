import type { Kysely } from 'kysely';
import type { TokenRevocations } from '../../application/ports/repositories.js';
import type { Database } from '../db/schema.js';

/**
 * Revoked access tokens by jti, in SQLite and in a Map kept in step with it (one node). The
 * Map is what the hot path reads; it holds only tokens not yet expired.
 */
export class SqliteTokenRevocations implements TokenRevocations {
  private readonly revoked = new Map<string, number>();

  private constructor(private readonly db: Kysely<Database>) {}

  static async open(db: Kysely<Database>, now: number): Promise<SqliteTokenRevocations> {
    const revocations = new SqliteTokenRevocations(db);
    const rows = await db.selectFrom('revoked_tokens').select(['jti', 'expires_at']).where('expires_at', '>', now).execute();
    for (const row of rows) revocations.revoked.set(row.jti, row.expires_at);
    return revocations;
  }

  isRevoked(jti: string): boolean {
    return this.revoked.has(jti);
  }

  async revokeAccessToken(jti: string, expiresAt: number, now: number): Promise<void> {
    if (expiresAt <= now) return;
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('revoked_tokens').values({ jti, expires_at: expiresAt }).onConflict((oc) => oc.doNothing()).execute();
      await trx.updateTable('issued_tokens').set({ revoked_at: now }).where('jti', '=', jti).where('revoked_at', 'is', null).execute();
    });
    this.revoked.set(jti, expiresAt);
  }

  async revokeGrant(grantId: string, now: number): Promise<void> {
    const jtis = await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('refresh_tokens').set({ revoked_at: now }).where('grant_id', '=', grantId).where('revoked_at', 'is', null).execute();
      const live = await trx
        .selectFrom('issued_tokens')
        .select(['jti', 'expires_at'])
        .where('grant_id', '=', grantId)
        .where('expires_at', '>', now)
        .execute();
      await trx.updateTable('issued_tokens').set({ revoked_at: now }).where('grant_id', '=', grantId).where('revoked_at', 'is', null).execute();
      if (live.length > 0) {
        await trx.insertInto('revoked_tokens').values(live).onConflict((oc) => oc.doNothing()).execute();
      }
      return live;
    });
    for (const { jti, expires_at } of jtis) this.revoked.set(jti, expires_at);
  }

  /** Forgets revocations of tokens that expired anyway (the purge job calls it). */
  forgetExpired(now: number): void {
    for (const [jti, expiresAt] of this.revoked) if (expiresAt <= now) this.revoked.delete(jti);
  }
}
