import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface PurgePolicy {
  /**
   * Codes are kept this long after they expire (the access token lifetime), so that a replay
   * within it revokes what the first use issued (RFC 6749 §4.1.2); a later replay is only refused.
   */
  readonly codeRetention: number;
  /** Audit events older than this are deleted, seconds. */
  readonly auditRetention: number;
  /**
   * `client.auth_failed` events older than this are deleted, seconds (auditRetention when not
   * given): anyone can cause them, so they are kept a shorter time (audit.failed_auth_retention_days).
   */
  readonly failedAuthRetention?: number;
}

export type PurgeReport = Record<string, number>;

/**
 * Deletes what has expired, so no table grows without bound: codes, interactions, sessions
 * (and the clients they logged in to), access token records, refresh tokens (a rotated one is
 * kept until its family ends, for reuse detection), revocations and old audit events.
 */
export async function purgeExpired(db: Kysely<Database>, now: number, policy: PurgePolicy): Promise<PurgeReport> {
  return db.transaction().execute(async (trx) => {
    const count = (result: { numDeletedRows: bigint }[]) => Number(result.reduce((n, r) => n + r.numDeletedRows, 0n));
    const report: PurgeReport = {};
    report.authorization_codes = count(await trx.deleteFrom('authorization_codes').where('expires_at', '<=', now - policy.codeRetention).execute());
    report.interactions = count(await trx.deleteFrom('interactions').where('expires_at', '<=', now).execute());
    report.sessions = count(
      await trx
        .deleteFrom('sessions')
        .where((eb) => eb.or([eb('expires_at', '<=', now), eb('ended_at', 'is not', null)]))
        .execute(),
    );
    report.session_clients = count(
      await trx
        .deleteFrom('session_clients')
        .where('sid', 'not in', trx.selectFrom('sessions').select('sid').where('sid', 'is not', null).$castTo<string>())
        .execute(),
    );
    report.issued_tokens = count(await trx.deleteFrom('issued_tokens').where('expires_at', '<=', now).execute());
    report.refresh_tokens = count(
      await trx
        .deleteFrom('refresh_tokens')
        .where((eb) => eb.or([eb('expires_at', '<=', now), eb.and([eb('rotated_at', 'is', null), eb('idle_expires_at', '<=', now)])]))
        .execute(),
    );
    report.revoked_tokens = count(await trx.deleteFrom('revoked_tokens').where('expires_at', '<=', now).execute());
    report.audit_log = count(await trx.deleteFrom('audit_log').where('at_ms', '<', sql<number>`${(now - policy.auditRetention) * 1000}`).execute());
    if (policy.failedAuthRetention !== undefined && policy.failedAuthRetention < policy.auditRetention) {
      // One range of the (event, at_ms) index.
      const failedBefore = sql<number>`${(now - policy.failedAuthRetention) * 1000}`;
      report.audit_log += count(await trx.deleteFrom('audit_log').where('event', '=', 'client.auth_failed').where('at_ms', '<', failedBefore).execute());
    }
    return report;
  });
}
