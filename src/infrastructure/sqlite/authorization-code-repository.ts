import type { Kysely } from 'kysely';
import type { AuthorizationCodeRepository, IssuedToken } from '../../application/ports/repositories.js';
import type { AuthorizationCode } from '../../domain/authorization-code.js';
import type { RefreshToken } from '../../domain/refresh-token.js';
import { recordIssued, toRow } from './refresh-token-repository.js';
import type { Database } from '../db/schema.js';

export class SqliteAuthorizationCodeRepository implements AuthorizationCodeRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async save(code: AuthorizationCode): Promise<void> {
    await this.db
      .insertInto('authorization_codes')
      .values({
        code_digest: code.codeDigest,
        grant_id: code.grantId,
        client_id: code.clientId,
        user_id: code.userId,
        redirect_uri: code.redirectUri,
        scope: code.scopes.join(' '),
        code_challenge: code.codeChallenge,
        nonce: code.nonce ?? null,
        dpop_jkt: code.dpopJkt ?? null,
        sid: code.sid ?? null,
        auth_time: code.authTime,
        created_at: code.issuedAt,
        expires_at: code.expiresAt,
        consumed_at: null,
      })
      .execute();
  }

  async find(codeDigest: string): Promise<AuthorizationCode | undefined> {
    const row = await this.db.selectFrom('authorization_codes').selectAll().where('code_digest', '=', codeDigest).executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      codeDigest: row.code_digest,
      grantId: row.grant_id,
      clientId: row.client_id,
      userId: row.user_id,
      redirectUri: row.redirect_uri,
      scopes: row.scope.split(' ').filter(Boolean),
      codeChallenge: row.code_challenge,
      nonce: row.nonce ?? undefined,
      dpopJkt: row.dpop_jkt ?? undefined,
      sid: row.sid ?? undefined,
      authTime: row.auth_time,
      issuedAt: row.created_at,
      expiresAt: row.expires_at,
      consumedAt: row.consumed_at ?? undefined,
    };
  }

  async consume(codeDigest: string, now: number, issued: readonly IssuedToken[], refresh: RefreshToken | undefined): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      // The WHERE clause is the single-use guarantee: only one UPDATE can see consumed_at NULL.
      const result = await trx
        .updateTable('authorization_codes')
        .set({ consumed_at: now })
        .where('code_digest', '=', codeDigest)
        .where('consumed_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      if (result.numUpdatedRows !== 1n) return false;
      if (refresh !== undefined) await trx.insertInto('refresh_tokens').values(toRow(refresh)).execute();
      await recordIssued(trx, issued);
      return true;
    });
  }
}
