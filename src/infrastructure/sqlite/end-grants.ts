import type { Kysely } from 'kysely';
import type { RevokedCounts } from '../../application/ports/repositories.js';
import type { Database } from '../db/schema.js';

/** Ids or rows per statement: SQLite binds at most 32,766 variables in one. */
const CHUNK = 500;

type Owner = 'client_id' | 'user_id';

/**
 * Ends everything granted to disabled clients or users, inside the transaction that disables
 * them: what revokeTokensOf ends, and pending interactions and consents are deleted. Enabling
 * them again later therefore revives none of it: they start afresh, and are asked for consent
 * again.
 */
export async function endGrantsOf(trx: Kysely<Database>, owner: Owner, all: readonly string[], now: number): Promise<RevokedCounts> {
  const total = { refreshTokens: 0, accessTokens: 0, sessions: 0 };
  await inChunks(all, async (ids) => {
    add(total, await revokeChunk(trx, owner, ids, now));
    await trx.deleteFrom('interactions').where(owner, 'in', ids).execute();
    // OIDC Core §3.1.2.4: what a user consented to while enabled does not carry over to a re-enabled row.
    await trx.deleteFrom('consents').where(owner, 'in', ids).execute();
  });
  return total;
}

/**
 * Revokes every token of the clients or users: refresh tokens and live recorded access tokens
 * (into revoked_tokens, which each server loads: token-revocations.ts), unexchanged authorization
 * codes expire, and a user's live sessions expire (their clients are told, see below).
 * Client_credentials access tokens are not recorded: the caller deals with those.
 */
export async function revokeTokensOf(trx: Kysely<Database>, owner: Owner, all: readonly string[], now: number): Promise<RevokedCounts> {
  const total = { refreshTokens: 0, accessTokens: 0, sessions: 0 };
  await inChunks(all, async (ids) => add(total, await revokeChunk(trx, owner, ids, now)));
  return total;
}

/** Runs `run` on successive slices of `all`, small enough for one statement's variables. */
export async function inChunks<T>(all: readonly T[], run: (chunk: readonly T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < all.length; i += CHUNK) await run(all.slice(i, i + CHUNK));
}

async function revokeChunk(trx: Kysely<Database>, owner: Owner, ids: readonly string[], now: number): Promise<RevokedCounts> {
  // Counted: the ones that still worked (not rotated, not expired); all are marked revoked.
  const usable = await trx
    .selectFrom('refresh_tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(owner, 'in', ids)
    .where('revoked_at', 'is', null)
    .where('rotated_at', 'is', null)
    .where('expires_at', '>', now)
    .where('idle_expires_at', '>', now)
    .executeTakeFirstOrThrow();
  await trx.updateTable('refresh_tokens').set({ revoked_at: now }).where(owner, 'in', ids).where('revoked_at', 'is', null).execute();
  const live = await trx
    .selectFrom('issued_tokens')
    .select(['jti', 'expires_at'])
    .where(owner, 'in', ids)
    .where('expires_at', '>', now)
    .where('revoked_at', 'is', null)
    .execute();
  await trx.updateTable('issued_tokens').set({ revoked_at: now }).where(owner, 'in', ids).where('revoked_at', 'is', null).execute();
  await inChunks(live, (rows) => trx.insertInto('revoked_tokens').values([...rows]).onConflict((oc) => oc.doNothing()).execute());
  // A code not yet exchanged expires now (marking it used would report a replay incident).
  await trx.updateTable('authorization_codes').set({ expires_at: now }).where(owner, 'in', ids).where('consumed_at', 'is', null).where('expires_at', '>', now).execute();
  let sessions = 0n;
  if (owner === 'user_id') {
    // The sessions expire now rather than end: expired and not ended is what LogoutService.endExpired
    // looks for, so their clients get their logout tokens (OIDC Back-Channel Logout §2.5) from the
    // process that made the change, from a running server noticing it (container.ts), or at the
    // next start or purge should none be up.
    const expired = await trx.updateTable('sessions').set({ expires_at: now }).where('user_id', 'in', ids).where('ended_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
    sessions = expired.numUpdatedRows;
  }
  return { refreshTokens: Number(usable.n), accessTokens: live.length, sessions: Number(sessions) };
}

function add(total: { refreshTokens: number; accessTokens: number; sessions: number }, counts: RevokedCounts): void {
  total.refreshTokens += counts.refreshTokens;
  total.accessTokens += counts.accessTokens;
  total.sessions += counts.sessions;
}
