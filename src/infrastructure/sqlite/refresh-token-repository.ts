import type { Kysely, Transaction } from 'kysely';
import type { IssuedToken, RefreshTokenRepository } from '../../application/ports/repositories.js';
import type { RefreshToken } from '../../domain/refresh-token.js';
import type { Database, RefreshTokensTable } from '../db/schema.js';

export class SqliteRefreshTokenRepository implements RefreshTokenRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async find(tokenDigest: string): Promise<RefreshToken | undefined> {
    const row = await this.db.selectFrom('refresh_tokens').selectAll().where('token_digest', '=', tokenDigest).executeTakeFirst();
    return row && fromRow(row);
  }

  async use(tokenDigest: string, now: number, change: { successor: RefreshToken } | { idleExpiresAt: number }, issued: readonly IssuedToken[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      // The WHERE clause makes a refresh token single-use under concurrency, as for codes.
      const update = trx
        .updateTable('refresh_tokens')
        .where('token_digest', '=', tokenDigest)
        .where('rotated_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .where('idle_expires_at', '>', now);
      const result = await ('successor' in change ? update.set({ rotated_at: now }) : update.set({ idle_expires_at: change.idleExpiresAt })).executeTakeFirst();
      if (result.numUpdatedRows !== 1n) return false;
      if ('successor' in change) await trx.insertInto('refresh_tokens').values(toRow(change.successor)).execute();
      await recordIssued(trx, issued);
      return true;
    });
  }
}

/** Records issued access tokens (their jti and grant), in the caller's transaction. */
export async function recordIssued(trx: Transaction<Database>, issued: readonly IssuedToken[]): Promise<void> {
  if (issued.length === 0) return;
  await trx
    .insertInto('issued_tokens')
    .values(
      issued.map((t) => ({
        jti: t.jti,
        kind: t.kind,
        grant_id: t.grantId ?? null,
        client_id: t.clientId,
        user_id: t.userId ?? null,
        scope: t.scope,
        created_at: t.createdAt,
        expires_at: t.expiresAt,
        revoked_at: null,
      })),
    )
    .execute();
}

export function toRow(token: RefreshToken): RefreshTokensTable {
  return {
    token_digest: token.tokenDigest,
    grant_id: token.grantId,
    client_id: token.clientId,
    user_id: token.userId,
    scope: token.scopes.join(' '),
    auth_time: token.authTime,
    sid: token.sid ?? null,
    dpop_jkt: token.dpopJkt ?? null,
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    idle_expires_at: token.idleExpiresAt,
    rotated_at: token.rotatedAt ?? null,
    revoked_at: token.revokedAt ?? null,
  };
}

function fromRow(row: RefreshTokensTable): RefreshToken {
  return {
    tokenDigest: row.token_digest,
    grantId: row.grant_id,
    clientId: row.client_id,
    userId: row.user_id,
    scopes: row.scope.split(' ').filter(Boolean),
    authTime: row.auth_time,
    sid: row.sid ?? undefined,
    dpopJkt: row.dpop_jkt ?? undefined,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    idleExpiresAt: row.idle_expires_at,
    rotatedAt: row.rotated_at ?? undefined,
    revokedAt: row.revoked_at ?? undefined,
  };
}
