import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { AUDIT_FLUSH_DELAY_MS, AUDIT_MAX_BUFFERED, AUDIT_USER_AGENT_LENGTH, SqliteAuditLog } from './audit-log.js';

let dir: string;
let db: Db;
const count = () => (db.sqlite.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;

beforeEach(() => {
  vi.useFakeTimers();
  dir = mkdtempSync(join(tmpdir(), 'trusty-audit-'));
  db = openDatabase(join(dir, 'trusty.db'));
  migrate(db.sqlite);
});

afterEach(async () => {
  vi.useRealTimers();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteAuditLog', () => {
  it('writes nothing inside the request, then every waiting event in one write after the delay', () => {
    const audit = new SqliteAuditLog(db.sqlite, pino({ enabled: false }), () => 1_700_000_000_000);
    audit.record({ event: 'token.issued', clientId: 'svc', ip: '127.0.0.1', details: { grant_type: 'client_credentials', jti: 'j-1' } });
    audit.record({ event: 'login.failed', userId: 'alice' });
    expect(count()).toBe(0);
    vi.advanceTimersByTime(AUDIT_FLUSH_DELAY_MS - 1);
    expect(count()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(db.sqlite.prepare('SELECT at_ms, event, client_id, user_id, ip, details FROM audit_log ORDER BY id').all()).toEqual([
      { at_ms: 1_700_000_000_000, event: 'token.issued', client_id: 'svc', user_id: null, ip: '127.0.0.1', details: '{"grant_type":"client_credentials","jti":"j-1"}' },
      { at_ms: 1_700_000_000_000, event: 'login.failed', client_id: null, user_id: 'alice', ip: null, details: null },
    ]);
  });

  it('arms no timer while nothing waits, and one again after a write', () => {
    const audit = new SqliteAuditLog(db.sqlite, pino({ enabled: false }));
    expect(vi.getTimerCount()).toBe(0);
    audit.record({ event: 'a' });
    audit.record({ event: 'b' });
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(AUDIT_FLUSH_DELAY_MS);
    expect(vi.getTimerCount()).toBe(0);
    audit.record({ event: 'c' });
    vi.advanceTimersByTime(AUDIT_FLUSH_DELAY_MS);
    expect(count()).toBe(3);
  });

  it('writes at once, on the next turn, when the buffer is full', () => {
    const audit = new SqliteAuditLog(db.sqlite, pino({ enabled: false }));
    for (let i = 0; i < AUDIT_MAX_BUFFERED; i++) audit.record({ event: 'token.issued', details: { i } });
    expect(count()).toBe(0);
    vi.advanceTimersByTime(0);
    expect(count()).toBe(AUDIT_MAX_BUFFERED);
  });

  it('writes the actor and the user agent, cut to AUDIT_USER_AGENT_LENGTH characters', async () => {
    const audit = new SqliteAuditLog(db.sqlite, pino({ enabled: false }));
    audit.record({ event: 'client.created', clientId: 'svc', actor: 'client:admin-bot', ip: '10.0.0.1', userAgent: 'u'.repeat(20_000) });
    audit.record({ event: 'token.issued', clientId: 'svc', userAgent: 'curl/8.5' });
    await audit.flush();
    expect(db.sqlite.prepare('SELECT actor, length(user_agent) AS length FROM audit_log ORDER BY id').all()).toEqual([
      { actor: 'client:admin-bot', length: AUDIT_USER_AGENT_LENGTH },
      { actor: null, length: 8 },
    ]);
  });

  it('loses nothing on a clean shutdown: close() writes what waits', async () => {
    const audit = new SqliteAuditLog(db.sqlite, pino({ enabled: false }));
    audit.record({ event: 'logout', userId: 'alice' });
    await audit.close();
    expect(count()).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('logs a failed write with the number of events lost, and keeps accepting events', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const audit = new SqliteAuditLog(db.sqlite, log);
    db.sqlite.exec('DROP TABLE audit_log');
    audit.record({ event: 'a' });
    audit.record({ event: 'b' });
    await audit.flush();
    expect(lines).toMatchObject([{ msg: 'audit log write failed', lost: 2 }]);
    expect(() => audit.record({ event: 'c' })).not.toThrow();
  });
});
