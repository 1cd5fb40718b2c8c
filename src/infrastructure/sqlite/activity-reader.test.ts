import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIVITY_MAX_GRANT_TYPES } from '../../application/ports/activity-reader.js';
import type { AuditEvent } from '../../application/ports/repositories.js';
import { openDatabase, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { ACTIVITY_CLIENTS_PER_STATEMENT, SqliteActivityReader } from './activity-reader.js';
import { SqliteAuditLog } from './audit-log.js';

const NOW = Date.parse('2026-01-31T12:00:00Z');
const HOUR = 3_600_000;
const windows = { hourStartMs: NOW - HOUR, dayStartMs: NOW - 24 * HOUR };
let dir: string;
let db: Db;
let atMs: number;
let log: SqliteAuditLog;
let reader: SqliteActivityReader;

/** Records `event` as if at `at` (ms). */
function at(at: number, event: AuditEvent): void {
  atMs = at;
  log.record(event);
}

function addClients(...ids: string[]): void {
  const insert = db.sqlite.prepare(`INSERT INTO clients (client_id, metadata, created_at, updated_at) VALUES (?, '{}', 0, 0)`);
  for (const id of ids) insert.run(id);
}

const issued = (clientId: string, grantType?: string): AuditEvent => ({ event: 'token.issued', clientId, details: grantType === undefined ? { jti: 'x' } : { grant_type: grantType, jti: 'x' } });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trusty-activity-'));
  db = openDatabase(join(dir, 'trusty.db'));
  migrate(db.sqlite);
  log = new SqliteAuditLog(db.sqlite, pino({ enabled: false }), () => atMs);
  reader = new SqliteActivityReader(db.sqlite);
});

afterEach(async () => {
  await log.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteActivityReader.tokenActivity', () => {
  it('counts each window from its start (inclusive) to now, per grant type and per stored client', async () => {
    addClients('a', 'b', 'idle');
    at(NOW - 25 * HOUR, issued('a', 'client_credentials')); // before the day
    at(windows.dayStartMs, issued('a', 'client_credentials')); // the day's first millisecond
    at(windows.hourStartMs - 1, issued('b', 'authorization_code')); // the day, not the hour
    at(windows.hourStartMs, issued('b', 'refresh_token')); // the hour's first millisecond
    at(NOW - 1, issued('a', 'client_credentials'));
    at(NOW - 2, { event: 'token.revoked', clientId: 'a', details: { kind: 'access_token', jti: 'x' } });
    at(NOW - 3, { event: 'refresh_token.reused', clientId: 'b', userId: 'u', details: { grant_id: 'g', incident: true } });
    at(NOW - 4, issued('deleted', 'client_credentials')); // a client no longer stored
    at(NOW - 5, { event: 'login.success', clientId: 'a', userId: 'u' }); // not a token event
    await log.flush();

    const activity = await reader.tokenActivity(windows);
    expect(activity.totals).toEqual({ issued: { day: 5, hour: 3 }, revoked: { day: 1, hour: 1 }, refreshTokenReused: { day: 1, hour: 1 } });
    expect(activity.issuedByGrantType).toEqual([
      { grantType: 'authorization_code', counts: { day: 1, hour: 0 } },
      { grantType: 'client_credentials', counts: { day: 3, hour: 2 } },
      { grantType: 'refresh_token', counts: { day: 1, hour: 1 } },
    ]);
    expect(activity.clients).toEqual([
      { clientId: 'a', counts: { issued: { day: 2, hour: 1 }, revoked: { day: 1, hour: 1 }, refreshTokenReused: { day: 0, hour: 0 } } },
      { clientId: 'b', counts: { issued: { day: 2, hour: 1 }, revoked: { day: 0, hour: 0 }, refreshTokenReused: { day: 1, hour: 1 } } },
    ]);
  });

  it('lists rows without a grant type as null, and grant types beyond ACTIVITY_MAX_GRANT_TYPES as *', async () => {
    for (let i = 0; i < ACTIVITY_MAX_GRANT_TYPES + 3; i++) at(NOW - 10 - i, issued('a', `grant-${String(i).padStart(2, '0')}`));
    at(NOW - 1, issued('a'));
    await log.flush();
    const { issuedByGrantType, totals } = await reader.tokenActivity(windows);
    expect(issuedByGrantType).toHaveLength(ACTIVITY_MAX_GRANT_TYPES + 2);
    expect(issuedByGrantType.at(-2)).toEqual({ grantType: '*', counts: { day: 3, hour: 3 } });
    expect(issuedByGrantType.at(-1)).toEqual({ grantType: null, counts: { day: 1, hour: 1 } });
    expect(totals.issued).toEqual({ day: ACTIVITY_MAX_GRANT_TYPES + 4, hour: ACTIVITY_MAX_GRANT_TYPES + 4 });
  });

  it('reads every stored client, a statement of ACTIVITY_CLIENTS_PER_STATEMENT at a time', async () => {
    const ids = Array.from({ length: 2 * ACTIVITY_CLIENTS_PER_STATEMENT + 7 }, (_, i) => `client-${String(i).padStart(4, '0')}`);
    addClients(...ids);
    ids.forEach((id, i) => at(NOW - i - 1, issued(id, 'client_credentials')));
    await log.flush();
    const { clients } = await reader.tokenActivity(windows);
    expect(clients.map((client) => client.clientId)).toEqual(ids);
  });

  it('reads indexes only: each count is a range of one index (plans)', () => {
    const plan = (sql: string, ...values: unknown[]) =>
      (db.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...values) as Array<{ detail: string }>).map((row) => row.detail).join(' | ');
    const statements = reader as unknown as Record<string, { source: string }>;
    expect(plan(statements.grantCount!.source, 'client_credentials', 0)).toMatch(/^SEARCH audit_log USING INDEX audit_log_issued_grant_at \(<expr>=\? AND at_ms>\?\)$/);
    expect(plan(statements.eventCount!.source, 'token.revoked', 0)).toBe('SEARCH audit_log USING COVERING INDEX audit_log_event_at (event=? AND at_ms>?)');
    const clientPlan = plan(statements.clientPage!.source.replace(/@\w+/g, '?'), 0, 0, 0, 0, 0, 0, '', 10);
    expect(clientPlan.match(/SEARCH a USING COVERING INDEX audit_log_client_event_at \(client_id=\? AND event=\? AND at_ms>\?\)/g)).toHaveLength(6);
  });
});

describe('SqliteActivityReader.sessionActivity', () => {
  it('counts live sessions, their users, and logins in each window', async () => {
    const now = NOW / 1000;
    const insert = db.sqlite.prepare('INSERT INTO sessions (id_digest, user_id, auth_time, created_at, expires_at, ended_at, sid) VALUES (?, ?, 0, 0, ?, ?, ?)');
    insert.run('s1', 'alice', now + 60, null, 'sid1');
    insert.run('s2', 'alice', now + 60, null, 'sid2');
    insert.run('s3', 'bob', now + 60, null, 'sid3');
    insert.run('s4', 'carol', now, null, 'sid4'); // expires now: not live
    insert.run('s5', 'dave', now + 60, now - 1, 'sid5'); // ended
    at(NOW - 2 * HOUR, { event: 'login.success', clientId: 'a', userId: 'alice' });
    at(NOW - 1, { event: 'login.success', clientId: 'a', userId: 'bob' });
    at(NOW - 1, { event: 'login.failure', clientId: 'a' });
    await log.flush();
    expect(await reader.sessionActivity(now, windows)).toEqual({ active: 3, activeUsers: 2, started: { day: 2, hour: 1 } });
  });
});
