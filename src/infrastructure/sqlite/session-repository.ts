import type { Kysely } from 'kysely';
import type { SessionRepository } from '../../application/ports/repositories.js';
import type { Session } from '../../domain/session.js';
import type { Database } from '../db/schema.js';

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
    // Sessions created before migration 0003 have no sid: derive a stable one from the digest.
    return row && { idDigest: row.id_digest, userId: row.user_id, authTime: row.auth_time, expiresAt: row.expires_at, sid: row.sid ?? row.id_digest.slice(0, 22) };
  }

  async end(idDigest: string, now: number): Promise<void> {
    await this.db.updateTable('sessions').set({ ended_at: now }).where('id_digest', '=', idDigest).execute();
  }
}
