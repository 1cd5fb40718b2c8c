import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.js';

/** Ids or rows per statement: SQLite binds at most 32,766 variables in one. */
const CHUNK = 500;

/**
 * Ends everything granted to disabled clients or users, inside the transaction that disables
 * them: refresh tokens and live access tokens are revoked (the revocation list is loaded at
 * start, after the seed), unexchanged authorization codes expire, pending interactions and
 * consents are deleted, and a user's sessions expire (their clients are told, see below).
 * Enabling them again later therefore revives none of it: they start afresh, and are asked
 * for consent again.
 */
export async function endGrantsOf(trx: Transaction<Database>, owner: 'client_id' | 'user_id', all: readonly string[], now: number): Promise<void> {
  await inChunks(all, (ids) => endChunk(trx, owner, ids, now));
}

/** Runs `run` on successive slices of `all`, small enough for one statement's variables. */
export async function inChunks<T>(all: readonly T[], run: (chunk: readonly T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < all.length; i += CHUNK) await run(all.slice(i, i + CHUNK));
}

async function endChunk(trx: Transaction<Database>, owner: 'client_id' | 'user_id', ids: readonly string[], now: number): Promise<void> {
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
  await trx.deleteFrom('interactions').where(owner, 'in', ids).execute();
  // OIDC Core §3.1.2.4: what a user consented to while enabled does not carry over to a re-enabled row.
  await trx.deleteFrom('consents').where(owner, 'in', ids).execute();
  if (owner === 'user_id') {
    // The sessions expire now rather than end: expired and not ended is what LogoutService.endExpired
    // looks for, so their clients get their logout tokens (OIDC Back-Channel Logout §2.5) once the
    // server is up (container.ts), or at the next purge should the process stop before that.
    await trx.updateTable('sessions').set({ expires_at: now }).where('user_id', 'in', ids).where('ended_at', 'is', null).where('expires_at', '>', now).execute();
  }
}
