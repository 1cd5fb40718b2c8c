import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_READ_BATCH, AuditQuery, auditEntryView, type AuditSearch } from '../../application/admin/audit.js';
import { AdminError } from '../../application/admin/errors.js';
import type { AuditEvent } from '../../application/ports/repositories.js';
import { openDatabase, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { SqliteAuditLog } from './audit-log.js';
import { SqliteAuditReader } from './audit-reader.js';

const T0 = Date.parse('2026-01-31T12:00:00Z');
let dir: string;
let db: Db;
let nowMs: number;
let log: SqliteAuditLog;
let reader: SqliteAuditReader;
let audit: AuditQuery;

/** Writes events one second apart from T0 (+ `offset` seconds), in order. */
async function write(events: AuditEvent[], offset = 0): Promise<void> {
  events.forEach((event, i) => {
    nowMs = T0 + (offset + i) * 1000;
    log.record(event);
  });
  await log.flush();
}

const names = (entries: ReadonlyArray<{ event: string; details: Record<string, unknown> | null }>) => entries.map((e) => `${e.event}#${String(e.details?.n)}`);

async function refused(promise: Promise<unknown>): Promise<{ field: string | undefined; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AdminError);
  return { field: (error as AdminError).field, message: (error as AdminError).message };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trusty-audit-reader-'));
  db = openDatabase(join(dir, 'trusty.db'));
  migrate(db.sqlite);
  nowMs = T0;
  log = new SqliteAuditLog(db.sqlite, pino({ enabled: false }), () => nowMs);
  reader = new SqliteAuditReader(db.sqlite);
  // The clock the durations count back from: T0 + 1 h.
  audit = new AuditQuery(reader, log, { now: () => T0 / 1000 + 3600 });
});

afterEach(async () => {
  await log.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('AuditQuery refuses bad input, naming the field', () => {
  it.each<[AuditSearch, string]>([
    [{ since: 'yesterday' }, 'since'],
    [{ since: '2026-13-45T99:00:00Z' }, 'since'],
    [{ since: '2026-01-31T12:00:00' }, 'since'], // a date-time without a zone is ambiguous
    [{ until: '-5' }, 'until'],
    [{ since: '2026-01-31T12:00:00Z', until: '2026-01-31T11:00:00Z' }, 'until'],
    [{ event: 'token.*.x' }, 'event'],
    [{ event: '*' }, 'event'],
    [{ event: "token.issued' OR 1=1" }, 'event'],
    [{ clientId: 'x'.repeat(257) }, 'client_id'],
    [{ userId: '' }, 'user_id'],
    [{ actor: 'a'.repeat(300) }, 'actor'],
  ])('%o → %s', async (search, field) => {
    expect((await refused(audit.list(search))).field).toBe(field);
  });

  it('refuses a limit outside 1–200 and a cursor it did not make', async () => {
    expect((await refused(audit.list({}, { limit: 0 }))).field).toBe('limit');
    expect((await refused(audit.list({}, { limit: 201 }))).field).toBe('limit');
    expect((await refused(audit.list({}, { limit: 1.5 }))).field).toBe('limit');
    expect((await refused(audit.list({}, { cursor: 'abc' }))).field).toBe('cursor');
    expect((await refused(audit.list({}, { cursor: Buffer.from('1.2; DROP TABLE audit_log').toString('base64url') }))).field).toBe('cursor');
    expect((await refused(audit.tail({}, 0))).field).toBe('count');
  });
});

describe('AuditQuery over a migrated SQLite file', () => {
  beforeEach(async () => {
    await write([
      { event: 'token.issued', clientId: 'svc', ip: '10.0.0.1', userAgent: 'curl/8', details: { n: 1 } },
      { event: 'client.created', clientId: 'svc', actor: 'client:admin-bot', details: { n: 2 } },
      { event: 'login.success', clientId: 'web', userId: 'alice', details: { n: 3 } },
      { event: 'clients.other', clientId: 'web', details: { n: 4 } },
      { event: 'client.updated', clientId: 'web', actor: 'cli:ops', details: { n: 5 } },
      { event: 'token.issued', clientId: 'web', userId: 'alice', details: { n: 6 } },
      { event: 'client', details: { n: 7 } },
    ]);
  });

  it('lists newest first, with every wire field', async () => {
    const page = await audit.list({});
    expect(names(page.items)).toEqual(['client#7', 'token.issued#6', 'client.updated#5', 'clients.other#4', 'login.success#3', 'client.created#2', 'token.issued#1']);
    expect(page.nextCursor).toBeNull();
    expect(auditEntryView(page.items[6]!)).toEqual({
      id: page.items[6]!.id,
      at: '2026-01-31T12:00:00.000Z',
      event: 'token.issued',
      client_id: 'svc',
      user_id: null,
      actor: null,
      ip: '10.0.0.1',
      user_agent: 'curl/8',
      details: { n: 1 },
    });
  });

  it('pages with the cursor, without repeating or missing an event', async () => {
    const first = await audit.list({}, { limit: 3 });
    expect(names(first.items)).toEqual(['client#7', 'token.issued#6', 'client.updated#5']);
    const second = await audit.list({}, { limit: 3, cursor: first.nextCursor! });
    expect(names(second.items)).toEqual(['clients.other#4', 'login.success#3', 'client.created#2']);
    const third = await audit.list({}, { limit: 3, cursor: second.nextCursor! });
    expect(names(third.items)).toEqual(['token.issued#1']);
    expect(third.nextCursor).toBeNull();
  });

  it('filters by exact event, by prefix (client.* is neither clients.other nor client), client, user and actor', async () => {
    expect(names((await audit.list({ event: 'token.issued' })).items)).toEqual(['token.issued#6', 'token.issued#1']);
    expect(names((await audit.list({ event: 'client.*' })).items)).toEqual(['client.updated#5', 'client.created#2']);
    expect(names((await audit.list({ clientId: 'web' })).items)).toEqual(['token.issued#6', 'client.updated#5', 'clients.other#4', 'login.success#3']);
    expect(names((await audit.list({ userId: 'alice', event: 'login.success' })).items)).toEqual(['login.success#3']);
    expect(names((await audit.list({ actor: 'cli:ops' })).items)).toEqual(['client.updated#5']);
    expect(names((await audit.list({ clientId: 'nobody' })).items)).toEqual([]);
  });

  it('filters by time: since inclusive, until exclusive, as ISO, epoch ms or a duration', async () => {
    expect(names((await audit.list({ since: '2026-01-31T12:00:04Z', until: '2026-01-31T12:00:06Z' })).items)).toEqual(['token.issued#6', 'client.updated#5']);
    expect(names((await audit.list({ since: String(T0 + 1000), until: String(T0 + 3000) })).items)).toEqual(['login.success#3', 'client.created#2']);
    expect(names((await audit.list({ since: '2026-01-31T13:00:01+01:00', until: '2026-01-31T12:00:02.000Z' })).items)).toEqual(['client.created#2']);
    // The clock is at T0 + 1 h: 1h ago is T0.
    expect((await audit.list({ since: '1h' })).items).toHaveLength(7);
    expect((await audit.list({ since: '59m' })).items).toHaveLength(0);
    expect((await audit.list({ until: '2026-01-31' })).items).toHaveLength(0);
  });

  it('writes what this process buffered before it reads', async () => {
    log.record({ event: 'client.deleted', clientId: 'svc', actor: 'client:admin-bot' });
    expect(names((await audit.list({ event: 'client.deleted' })).items)).toEqual(['client.deleted#undefined']);
  });

  it('tails the last events oldest first, then follows what is written after, skipping what the filter excludes', async () => {
    const tail = await audit.tail({ event: 'token.issued' }, 20);
    expect(names(tail.entries)).toEqual(['token.issued#1', 'token.issued#6']);
    expect((await audit.follow({ event: 'token.issued' }, tail.lastId)).entries).toEqual([]);
    await write([{ event: 'login.failure' }, { event: 'token.issued', details: { n: 8 } }], 10);
    const next = await audit.follow({ event: 'token.issued' }, tail.lastId);
    expect(names(next.entries)).toEqual(['token.issued#8']);
    expect(next.lastId).toBe(tail.lastId + 2);
    expect((await audit.follow({ event: 'token.issued' }, next.lastId)).entries).toEqual([]);
  });

  it('exports oldest first, in batches, across batch boundaries', async () => {
    await write(Array.from({ length: AUDIT_READ_BATCH * 2 + 1 }, (_, i) => ({ event: 'bulk.event', details: { n: i } })), 100);
    const seen: number[] = [];
    for await (const entry of audit.export({ event: 'bulk.*' })) seen.push(entry.details!.n as number);
    expect(seen).toEqual(Array.from({ length: AUDIT_READ_BATCH * 2 + 1 }, (_, i) => i));
  });
});

describe('SqliteAuditReader query plans', () => {
  it('serves every filter from an index, sorting only an event prefix', async () => {
    await write([{ event: 'token.issued' }]);
    const searches: AuditSearch[] = [
      {},
      { since: '1h', until: '1m' },
      { event: 'token.issued' },
      { event: 'client.*' },
      { clientId: 'svc', since: '1h' },
      { userId: 'alice' },
      { actor: 'client:admin-bot' },
      { event: 'token.issued', clientId: 'svc', userId: 'alice', actor: 'cli:ops', since: '1d', until: '1m' },
    ];
    for (const search of searches) {
      const page = await audit.list(search, { limit: 1 });
      await audit.list(search, { limit: 1, cursor: Buffer.from(`${T0}.1`).toString('base64url') });
      for await (const _ of audit.export(search)) break;
      await audit.follow(search, 0);
      expect(page).toBeDefined();
    }
    const statements = [...(reader['statements'] as Map<string, { source: string }>).values()].map((s) => s.source);
    expect(statements).toHaveLength(searches.length * 4);
    for (const source of statements) {
      const parameters = (source.match(/\?/g) ?? []).length;
      const plan = (db.sqlite.prepare(`EXPLAIN QUERY PLAN ${source}`).all(...Array<number>(parameters).fill(1)) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
      if (source.includes('NOT INDEXED')) expect(plan, source).toBe('SEARCH audit_log USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)');
      else expect(plan, source).toMatch(/^(SEARCH|SCAN) audit_log USING INDEX audit_log_\w+/);
      if (!source.includes('event >= ?')) expect(plan, source).not.toContain('TEMP B-TREE');
    }
  });
});
