import type SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { RevokedCounts, TokenRevocations } from '../../application/ports/repositories.js';
import type { Database } from '../db/schema.js';
import { immediate, type ChangeRecorder } from './control-write.js';
import { revokeTokensOf } from './end-grants.js';

/**
 * The change counter (ControlVersion): bumped by revokeAllOf; its listeners run on every change,
 * its foreign-write listeners on any commit of another connection (a /revoke on another server).
 */
export interface RevocationChanges extends ChangeRecorder {
  onForeignWrite(listener: () => void): void;
}

interface Numbered {
  readonly seq: number;
  readonly jti: string;
  readonly expires_at: number;
}

/**
 * Revoked access tokens by jti, in SQLite and in a Map kept in step with it. The Map is what the
 * hot path reads; it holds only tokens not yet expired. Revocations written by another process
 * (the CLI, another server on the file) or by a repository (a user or client disabled) are loaded
 * after any control change or any commit of another connection: only the rows numbered after the
 * last one seen (migration 0013, an index range read), synchronously before the next check, so
 * the request after the change already sees them.
 */
export class SqliteTokenRevocations implements TokenRevocations {
  private readonly revoked = new Map<string, number>();
  /** The highest revoked_tokens.seq loaded. */
  private seen = 0;
  /** A control change happened: load the newer rows before answering the next check. */
  private stale = false;
  private readonly newer: SQLite.Statement<[number], Numbered>;

  private constructor(
    private readonly db: Kysely<Database>,
    private readonly sqlite: SQLite.Database,
    private readonly clock: () => number,
    private readonly changes?: RevocationChanges,
  ) {
    this.newer = sqlite.prepare<[number], Numbered>('SELECT seq, jti, expires_at FROM revoked_tokens WHERE seq > ? ORDER BY seq');
    const stale = () => {
      this.stale = true;
    };
    changes?.onChange(stale);
    // A revocation at /revoke (or a refresh-token reuse) on another server records no control
    // change: any commit elsewhere makes the next check read the rows numbered after the last seen.
    changes?.onForeignWrite(stale);
  }

  static open(db: { kysely: Kysely<Database>; sqlite: SQLite.Database }, clock: () => number, changes?: RevocationChanges): SqliteTokenRevocations {
    const revocations = new SqliteTokenRevocations(db.kysely, db.sqlite, clock, changes);
    revocations.load();
    return revocations;
  }

  isRevoked(jti: string): boolean {
    if (this.stale) this.load();
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

  async revokeAllOf(owner: { readonly clientId: string } | { readonly userId: string }, now: number): Promise<RevokedCounts | undefined> {
    // IMMEDIATE: it reads (the user) before it writes, and another process may write in between.
    const counts = await immediate(this.db, async (trx) => {
      let counts: RevokedCounts;
      if ('clientId' in owner) {
        // Client_credentials access tokens are not recorded: the verifier refuses those whose iat is
        // before the client's enabled_at. iat has whole seconds, so a token issued earlier in this
        // very second has iat = now: hence now + 1 (one issued in the rest of this second dies too).
        const updated = await trx
          .updateTable('clients')
          .set({ enabled_at: sql<number>`max(coalesce(enabled_at, 0), ${now + 1})` })
          .where('client_id', '=', owner.clientId)
          .executeTakeFirst();
        if (updated.numUpdatedRows === 0n) return undefined;
        counts = await revokeTokensOf(trx, 'client_id', [owner.clientId], now);
      } else {
        const user = await trx.selectFrom('users').select('id').where('id', '=', owner.userId).executeTakeFirst();
        if (user === undefined) return undefined;
        counts = await revokeTokensOf(trx, 'user_id', [owner.userId], now);
      }
      // Every process drops its client cache (the new enabled_at) and loads these revocations.
      await this.changes?.record(trx);
      return counts;
    });
    if (counts !== undefined) this.load();
    return counts;
  }

  /** Forgets revocations of tokens that expired anyway (the purge job calls it). */
  forgetExpired(now: number): void {
    for (const [jti, expiresAt] of this.revoked) if (expiresAt <= now) this.revoked.delete(jti);
  }

  /**
   * Loads the rows added since the last load. Not while a transaction is open on the connection
   * (the same one kysely uses): it would read rows that may yet be rolled back, and their numbers
   * would then be reused; the next check loads them once committed.
   */
  private load(): void {
    if (this.sqlite.inTransaction) {
      this.stale = true;
      return;
    }
    this.stale = false;
    const now = this.clock();
    for (const row of this.newer.all(this.seen)) {
      if (row.expires_at > now) this.revoked.set(row.jti, row.expires_at);
      this.seen = row.seq;
    }
  }
}
