import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { purgeExpired } from './purge.js';

const DAY = 86400;
const NOW = Date.parse('2026-01-31T12:00:00Z') / 1000;
let dir: string;
let db: Db;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trusty-purge-'));
  db = openDatabase(join(dir, 'trusty.db'));
  migrate(db.sqlite);
});

afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const insert = (event: string, daysAgo: number) => db.sqlite.prepare('INSERT INTO audit_log (at_ms, event) VALUES (?, ?)').run((NOW - daysAgo * DAY) * 1000, event);
const left = () => db.sqlite.prepare<[], { event: string; days: number }>(`SELECT event, (${NOW * 1000} - at_ms) / ${DAY * 1000}.0 AS days FROM audit_log ORDER BY at_ms`).all();

describe('purgeExpired: the audit log', () => {
  it('deletes client.auth_failed after failedAuthRetention and every other event after auditRetention', async () => {
    insert('token.issued', 91);
    insert('client.auth_failed', 91);
    insert('token.issued', 8);
    insert('client.auth_failed', 7.001);
    insert('client.auth_failed', 6.999);
    insert('token.issued', 0);
    const report = await purgeExpired(db.kysely, NOW, { codeRetention: 600, auditRetention: 90 * DAY, failedAuthRetention: 7 * DAY });
    expect(report.audit_log).toBe(3);
    expect(left()).toEqual([
      { event: 'token.issued', days: 8 },
      { event: 'client.auth_failed', days: 6.999 },
      { event: 'token.issued', days: 0 },
    ]);
  });

  it('without failedAuthRetention, keeps client.auth_failed as long as the rest', async () => {
    insert('client.auth_failed', 30);
    insert('client.auth_failed', 91);
    const report = await purgeExpired(db.kysely, NOW, { codeRetention: 600, auditRetention: 90 * DAY });
    expect(report.audit_log).toBe(1);
    expect(left()).toEqual([{ event: 'client.auth_failed', days: 30 }]);
  });

  it('deletes the failed authentications by one range of the (event, at_ms) index', () => {
    const plan = db.sqlite.prepare("EXPLAIN QUERY PLAN DELETE FROM audit_log WHERE event = ? AND at_ms < ?").all('client.auth_failed', 1) as Array<{ detail: string }>;
    expect(plan.map((row) => row.detail)).toEqual(['SEARCH audit_log USING INDEX audit_log_event_at (event=? AND at_ms<?)']);
  });
});
