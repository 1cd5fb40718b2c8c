import { sql, type Kysely } from 'kysely';
import type { LoginLockoutStore } from '../../application/ports/login-lockouts.js';
import type { LockoutState } from '../../domain/lockout.js';
import type { Database } from '../db/schema.js';
import { immediate } from './control-write.js';

interface Row {
  user_id: string;
  failures: number;
  last_failure_ms: number;
  locks: number;
  locked_until_ms: number | null;
}

/**
 * The login_lockouts table (migration 0017): read by primary key at every login attempt of an
 * existing user, written in an IMMEDIATE transaction (another process — the CLI's unlock, a second
 * server — may write in between). Through kysely's connection, so it never interleaves with a
 * transaction kysely has open on the same connection.
 */
export class SqliteLoginLockoutStore implements LoginLockoutStore {
  constructor(private readonly db: Kysely<Database>) {}

  async find(userId: string): Promise<LockoutState | undefined> {
    return read(this.db, userId);
  }

  async findMany(userIds: readonly string[]): Promise<Map<string, LockoutState>> {
    const states = new Map<string, LockoutState>();
    if (userIds.length === 0) return states;
    const { rows } = await sql<Row>`SELECT user_id, failures, last_failure_ms, locks, locked_until_ms FROM login_lockouts WHERE user_id IN (${sql.join(userIds)})`.execute(this.db);
    for (const row of rows) states.set(row.user_id, toState(row));
    return states;
  }

  async update(userId: string, change: (current: LockoutState | undefined) => LockoutState | undefined): Promise<LockoutState | undefined> {
    return immediate(this.db, async (trx) => {
      const current = await read(trx, userId);
      const next = change(current);
      if (next === current) return current;
      if (next === undefined) {
        await sql`DELETE FROM login_lockouts WHERE user_id = ${userId}`.execute(trx);
      } else {
        await sql`INSERT INTO login_lockouts (user_id, failures, last_failure_ms, locks, locked_until_ms)
          VALUES (${userId}, ${next.failures}, ${next.lastFailureAt}, ${next.locks}, ${next.lockedUntil ?? null})
          ON CONFLICT (user_id) DO UPDATE SET failures = excluded.failures, last_failure_ms = excluded.last_failure_ms, locks = excluded.locks, locked_until_ms = excluded.locked_until_ms`.execute(trx);
      }
      return next;
    });
  }

  async clear(userId: string): Promise<LockoutState | undefined> {
    const { rows } = await sql<Row>`DELETE FROM login_lockouts WHERE user_id = ${userId} RETURNING user_id, failures, last_failure_ms, locks, locked_until_ms`.execute(this.db);
    return rows[0] && toState(rows[0]);
  }
}

async function read(db: Kysely<Database>, userId: string): Promise<LockoutState | undefined> {
  const { rows } = await sql<Row>`SELECT user_id, failures, last_failure_ms, locks, locked_until_ms FROM login_lockouts WHERE user_id = ${userId}`.execute(db);
  return rows[0] && toState(rows[0]);
}

function toState(row: Row): LockoutState {
  return { failures: row.failures, lastFailureAt: row.last_failure_ms, locks: row.locks, lockedUntil: row.locked_until_ms ?? undefined };
}
