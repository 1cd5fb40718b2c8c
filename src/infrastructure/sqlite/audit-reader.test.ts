import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_PAGE_MAX, AUDIT_READ_BATCH, AuditQuery, auditEntryView, type AuditSearch } from '../../application/admin/audit.js';
import { AdminError } from '../../application/admin/errors.js';
import type { AuditEvent } from '../../application/ports/repositories.js';
import { openDatabase, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { SqliteAuditLog } from './audit-log.js';
import { AUDIT_MAX_WALKS, AUDIT_SCAN_BUDGET, SqliteAuditReader } from './audit-reader.js';

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
    await write(Array.from({ length: AUDIT_READ_BATCH * 2 + 1 }, (_, i) => ({ event: i % 3 === 0 ? 'token.revoked' : 'token.issued', details: { n: i } })), 100);
    const seen: number[] = [];
    for await (const entry of audit.export({ event: 'token.*', since: '2026-01-31T12:01:40Z' })) seen.push(entry.details!.n as number);
    expect(seen).toEqual(Array.from({ length: AUDIT_READ_BATCH * 2 + 1 }, (_, i) => i));
  });

  it('a prefix stands for every event name in the log that starts with it', async () => {
    expect(names((await audit.list({ event: 'clients.*' })).items)).toEqual(['clients.other#4']);
    expect(names((await audit.list({ event: 'client.*', clientId: 'web' })).items)).toEqual(['client.updated#5']);
    expect(names((await audit.list({ event: 'nothing.*' })).items)).toEqual([]);
  });
});

describe('SqliteAuditReader pages, whatever the filter', () => {
  /** 400 events, several per millisecond, over a few clients, users and actors. */
  async function seed(): Promise<AuditEvent[]> {
    let state = 7;
    const pick = <T,>(values: readonly T[]): T => values[(state = (state * 48271) % 2147483647) % values.length]!;
    const events: AuditEvent[] = [];
    for (let i = 0; i < 400; i++) {
      const event = pick(['token.issued', 'token.issued', 'token.revoked', 'client.updated', 'client.created', 'clients.other', 'login.success', 'logout']);
      events.push({ event, clientId: pick(['a', 'b', undefined]), userId: pick(['u', 'v', undefined]), actor: pick(['cli:x', undefined, undefined, undefined]), details: { n: i } });
    }
    for (let i = 0; i < events.length; i++) {
      nowMs = T0 + Math.floor(i / 3);
      log.record(events[i]!);
    }
    await log.flush();
    return events;
  }

  const searches: AuditSearch[] = [];
  for (const event of [undefined, 'token.issued', 'token.*', 'client.*', 'logout', 'nothing.*'])
    for (const clientId of [undefined, 'a'])
      for (const userId of [undefined, 'u'])
        for (const actor of [undefined, 'cli:x'])
          for (const since of [undefined, String(T0 + 40)]) searches.push({ event, clientId, userId, actor, since, until: since && String(T0 + 120) });

  /** What a search should return: every event, filtered in JS, in the order asked. */
  function expected(events: AuditEvent[], search: AuditSearch): number[] {
    const prefix = search.event?.endsWith('.*') ? search.event.slice(0, -1) : undefined;
    return events
      .map((event, n) => ({ ...event, n, at: T0 + Math.floor(n / 3) }))
      .filter((e) => search.event === undefined || (prefix ? e.event.startsWith(prefix) : e.event === search.event))
      .filter((e) => (search.clientId === undefined || e.clientId === search.clientId) && (search.userId === undefined || e.userId === search.userId))
      .filter((e) => (search.actor === undefined || e.actor === search.actor) && (search.since === undefined || (e.at >= Number(search.since) && e.at < Number(search.until))))
      .map((e) => e.n);
  }

  it.each([
    ['the production scan budget', AUDIT_SCAN_BUDGET],
    ['a scan budget of 5 rows', 5],
  ])('newest first with the cursor, and oldest first (export), equal the filter over every row, with %s', async (_, budget) => {
    const events = await seed();
    audit = new AuditQuery(new SqliteAuditReader(db.sqlite, budget), log, { now: () => T0 / 1000 + 3600 });
    for (const search of searches) {
      const want = expected(events, search);
      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await audit.list(search, { limit: 7, cursor });
        expect(page.items.length).toBeLessThanOrEqual(7);
        seen.push(...page.items.map((e) => e.details!.n as number));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor !== undefined && pages < 500);
      expect(seen, JSON.stringify(search)).toEqual([...want].reverse());
      const exported: number[] = [];
      for await (const entry of audit.export(search)) exported.push(entry.details!.n as number);
      expect(exported, JSON.stringify(search)).toEqual(want);
      // tail reads at most AUDIT_TAIL_PAGES pages: with a tiny budget, the newest of the matches only.
      const tail = (await audit.tail(search, 5)).entries.map((e) => e.details!.n as number);
      expect(tail.length).toBeLessThanOrEqual(5);
      expect(tail, JSON.stringify(search)).toEqual(budget === AUDIT_SCAN_BUDGET ? want.slice(-5) : want.slice(want.length - tail.length));
    }
  });

  it('a page that reached the scan budget ends there: fewer events, and a cursor to go on', async () => {
    // 30 events of user u, the 3 oldest of them about client a: client_id and user_id are in no index together.
    await write(Array.from({ length: 30 }, (_, i) => ({ event: 'token.issued', userId: 'u', clientId: i < 3 ? 'a' : 'b', details: { n: i } })));
    audit = new AuditQuery(new SqliteAuditReader(db.sqlite, 10), log, { now: () => T0 / 1000 + 3600 });
    const first = await audit.list({ userId: 'u', clientId: 'a' }, { limit: 2 });
    expect(first.items).toEqual([]);
    expect(first.nextCursor).not.toBeNull();
    const second = await audit.list({ userId: 'u', clientId: 'a' }, { limit: 2, cursor: first.nextCursor! });
    expect(names(second.items)).toEqual([]);
    const third = await audit.list({ userId: 'u', clientId: 'a' }, { limit: 2, cursor: second.nextCursor! });
    expect(names(third.items)).toEqual(['token.issued#2', 'token.issued#1']);
    const fourth = await audit.list({ userId: 'u', clientId: 'a' }, { limit: 2, cursor: third.nextCursor! });
    expect(names(fourth.items)).toEqual(['token.issued#0']);
    expect(fourth.nextCursor).toBeNull();
  });
});

describe('SqliteAuditReader query plans', () => {
  /** The plan of every statement a search prepares (list, a second page, export, follow), parameters bound to 1. */
  async function plans(search: AuditSearch): Promise<Array<{ source: string; plan: string }>> {
    const fresh = new SqliteAuditReader(db.sqlite);
    const query = new AuditQuery(fresh, log, { now: () => T0 / 1000 + 3600 });
    await query.list(search, { limit: AUDIT_PAGE_MAX });
    await query.list(search, { limit: 1, cursor: Buffer.from(`${T0}.1`).toString('base64url') });
    for await (const _ of query.export(search)) break;
    await query.follow(search, 0);
    return [...(fresh['statements'] as Map<string, { source: string }>).values()].map(({ source }) => {
      const parameters = (source.match(/\?/g) ?? []).length;
      const rows = db.sqlite.prepare(`EXPLAIN QUERY PLAN ${source}`).all(...Array<number>(parameters).fill(1)) as Array<{ detail: string }>;
      return { source, plan: rows.map((r) => r.detail).join(' | ') };
    });
  }

  /** Two names for every key, so that prefixes and keys have names to skip through. */
  async function events(): Promise<void> {
    await write([
      { event: 'token.issued', clientId: 'svc', userId: 'alice', actor: 'cli:ops' },
      { event: 'token.revoked', clientId: 'svc', userId: 'alice', actor: 'cli:ops' },
      { event: 'client.updated', clientId: 'svc', userId: 'alice', actor: 'client:admin-bot' },
      { event: 'login.success', clientId: 'svc', userId: 'alice' },
    ]);
  }

  it.each<[AuditSearch, string]>([
    [{ since: '1h', until: '1m' }, 'audit_log_at'],
    [{ event: 'token.issued' }, 'audit_log_event_at'],
    [{ event: 'token.*', since: '1h' }, 'audit_log_event_at'],
    [{ event: 'client.*' }, 'audit_log_event_at'],
    [{ clientId: 'svc', since: '1h' }, 'audit_log_client_event_at'],
    [{ clientId: 'svc', event: 'client.deleted' }, 'audit_log_client_event_at'],
    [{ clientId: 'svc', event: 'token.*', until: '1m' }, 'audit_log_client_event_at'],
    [{ userId: 'alice' }, 'audit_log_user_event_at'],
    [{ userId: 'alice', event: 'login.*' }, 'audit_log_user_event_at'],
    [{ actor: 'client:admin-bot' }, 'audit_log_actor_at'],
    [{}, 'audit_log_at'],
  ])('%o: one ordered range of %s per walk (per event name), no sort', async (search, index) => {
    await events();
    const found = await plans(search);
    const reads = found.filter(({ source }) => source.startsWith('SELECT id, ') && !source.includes('NOT INDEXED'));
    // Newest first, its second page, oldest first: the walks of several names share them (event = ?), and so may these.
    expect(reads.length).toBeGreaterThanOrEqual(1);
    for (const { source, plan } of reads) {
      // Without a filter, the first page is the index read from its end, stopped at the page size.
      if (!source.includes(' WHERE ')) expect(plan, source).toBe('SCAN audit_log USING INDEX audit_log_at');
      else expect(plan, source).toMatch(new RegExp(`^SEARCH audit_log USING INDEX ${index} \\(`));
    }
    // The names of a prefix or of a key: one seek each in the same index.
    for (const { source, plan } of found.filter(({ source }) => source.startsWith('SELECT event '))) {
      expect(plan, source).toMatch(new RegExp(`^SEARCH audit_log USING COVERING INDEX ${index} \\(.*event>`));
    }
    for (const { source, plan } of found) {
      expect(plan, source).not.toContain('TEMP B-TREE');
      // One bound per side (since, until and the cursor folded into one position): SQLite bounds the range by one only.
      if (!source.includes('NOT INDEXED')) expect(source).not.toMatch(/[^,] at_ms [<>]|\(at_ms, id\) <.*\(at_ms, id\) <|\(at_ms, id\) >=.*\(at_ms, id\) >=/);
    }
    const follow = found.find(({ source }) => source.includes('NOT INDEXED'));
    expect(follow?.plan).toBe('SEARCH audit_log USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)');
  });

  it.each<[AuditSearch, string]>([
    [{ clientId: 'svc', userId: 'alice' }, 'audit_log_user_event_at'],
    [{ clientId: 'svc', userId: 'alice', event: 'token.issued' }, 'audit_log_user_event_at'],
    [{ actor: 'cli:ops', event: 'client.*', clientId: 'svc', since: '1d', until: '1m' }, 'audit_log_actor_at'],
  ])('%o: a filter the index (%s) does not hold costs a boundary read from the index alone, then at most the scan budget', async (search, index) => {
    await events();
    const found = (await plans(search)).filter(({ source }) => !source.includes('NOT INDEXED') && !source.startsWith('SELECT event '));
    expect(found.filter(({ source }) => source.startsWith('SELECT at_ms, id ')).length).toBeGreaterThanOrEqual(1);
    for (const { source, plan } of found) {
      if (source.startsWith('SELECT at_ms, id ')) expect(plan, source).toMatch(new RegExp(`^SEARCH audit_log USING COVERING INDEX ${index} \\(`));
      else expect(plan, source).toMatch(new RegExp(`^SEARCH audit_log USING INDEX ${index} \\(`));
      expect(plan, source).not.toContain('TEMP B-TREE');
    }
  });

  it(`a client with more than ${AUDIT_MAX_WALKS} event names (a hand-edited log) is read by time, within the scan budget`, async () => {
    await write(Array.from({ length: AUDIT_MAX_WALKS + 1 }, (_, i) => ({ event: `custom.e${i}`, clientId: 'svc', details: { n: i } })));
    const found = await plans({ clientId: 'svc' });
    const reads = found.filter(({ source }) => !source.includes('NOT INDEXED') && !source.startsWith('SELECT event '));
    expect(reads.length).toBeGreaterThanOrEqual(2);
    for (const { source, plan } of reads) expect(plan, source).toMatch(/^(SCAN|SEARCH) audit_log USING (COVERING )?INDEX audit_log_at\b/);
    const page = await audit.list({ clientId: 'svc', event: 'custom.*' }, { limit: 3 });
    expect(names(page.items)).toEqual([`custom.e${AUDIT_MAX_WALKS}#${AUDIT_MAX_WALKS}`, `custom.e${AUDIT_MAX_WALKS - 1}#${AUDIT_MAX_WALKS - 1}`, `custom.e${AUDIT_MAX_WALKS - 2}#${AUDIT_MAX_WALKS - 2}`]);
  });
});
