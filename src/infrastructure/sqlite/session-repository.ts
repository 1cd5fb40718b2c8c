import type { Kysely, Selectable } from 'kysely';
import type { SessionPosition, SessionRepository } from '../../application/ports/repositories.js';
import type { Session } from '../../domain/session.js';
import type { Database, SessionsTable } from '../db/schema.js';

export class SqliteSessionRepository implements SessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(session: Session): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        id_digest: session.idDigest,
        user_id: session.userId,
        auth_time: session.authTime,
        created_at: session.authTime,
        expires_at: session.expiresAt,
        ended_at: null,
        sid: session.sid,
      })
      .execute();
  }

  async addClient(sid: string, clientId: string): Promise<void> {
    await this.db.insertInto('session_clients').values({ sid, client_id: clientId }).onConflict((oc) => oc.doNothing()).execute();
  }

  async clientsOf(sid: string): Promise<string[]> {
    const rows = await this.db.selectFrom('session_clients').select('client_id').where('sid', '=', sid).execute();
    return rows.map((row) => row.client_id);
  }

  async find(idDigest: string): Promise<Session | undefined> {
    const row = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('id_digest', '=', idDigest)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    return row && toSession(row);
  }

  async end(idDigest: string, now: number): Promise<Session | undefined> {
    // `ended_at IS NULL` in the same statement: of two concurrent ends, only one gets the row.
    const row = await this.db
      .updateTable('sessions')
      .set({ ended_at: now })
      .where('id_digest', '=', idDigest)
      .where('ended_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    return row && toSession(row);
  }

  async listLive(userId: string, now: number, limit: number, after?: SessionPosition): Promise<Array<{ session: Session; clientIds: string[] }>> {
    let select = this.db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('ended_at', 'is', null)
      .where('expires_at', '>', now)
      .where('sid', 'is not', null)
      .orderBy('auth_time', 'desc')
      .orderBy('sid', 'desc')
      .limit(limit);
    if (after !== undefined) {
      select = select.where((eb) => eb.or([eb('auth_time', '<', after.authTime), eb.and([eb('auth_time', '=', after.authTime), eb('sid', '<', after.sid)])]));
    }
    const rows = await select.execute();
    const sessions = rows.map(toSession);
    const sids = sessions.map((session) => session.sid);
    const links = sids.length === 0 ? [] : await this.db.selectFrom('session_clients').select(['sid', 'client_id']).where('sid', 'in', sids).orderBy('client_id').execute();
    return sessions.map((session) => ({ session, clientIds: links.filter((link) => link.sid === session.sid).map((link) => link.client_id) }));
  }

  async expire(sid: string, now: number): Promise<string | undefined> {
    // Expired, not ended: LogoutService.endExpired ends it (once) and tells its clients.
    const expired = await this.db
      .updateTable('sessions')
      .set({ expires_at: now })
      .where('sid', '=', sid)
      .where('ended_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('user_id')
      .execute();
    return expired[0]?.user_id;
  }

  async countLive(now: number): Promise<number> {
    // A range scan of sessions_expires_at; ended rows in the range are checked one by one.
    const row = await this.db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number>().as('live'))
      .where('expires_at', '>', now)
      .where('ended_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.live);
  }

  async endExpired(now: number, limit: number): Promise<Array<{ session: Session; clientIds: string[] }>> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .updateTable('sessions')
        .set({ ended_at: now })
        .where('id_digest', 'in', (eb) =>
          eb
            .selectFrom('sessions')
            .select('id_digest')
            .where('ended_at', 'is', null)
            .where('expires_at', '<=', now)
            .where('sid', 'in', eb.selectFrom('session_clients').select('sid'))
            .orderBy('expires_at')
            .limit(limit),
        )
        .returningAll()
        .execute();
      const sessions = rows.map(toSession);
      const clients = new Map<string, string[]>(sessions.map((session) => [session.sid, []]));
      for (let i = 0; i < sessions.length; i += SID_BATCH) {
        const sids = sessions.slice(i, i + SID_BATCH).map((session) => session.sid);
        const links = await trx.selectFrom('session_clients').select(['sid', 'client_id']).where('sid', 'in', sids).execute();
        for (const link of links) clients.get(link.sid)?.push(link.client_id);
      }
      return sessions.map((session) => ({ session, clientIds: clients.get(session.sid) ?? [] }));
    });
  }
}

/** Sids per `IN (...)` list, well under SQLite's 32 766 bound parameters. */
const SID_BATCH = 500;

function toSession(row: Selectable<SessionsTable>): Session {
  // Sessions created before migration 0003 have no sid: derive a stable one from the digest.
  return { idDigest: row.id_digest, userId: row.user_id, authTime: row.auth_time, expiresAt: row.expires_at, sid: row.sid ?? row.id_digest.slice(0, 22) };
}
