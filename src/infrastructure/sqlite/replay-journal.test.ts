import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../../test/unit/fixtures.js';
import type { ReplayOwner } from '../../application/ports/replay-cache.js';
import { MemoryReplayCache } from '../cache/memory-replay-cache.js';
import { openDatabase, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { SqliteReplayJournal } from './replay-journal.js';

const APP: ReplayOwner = { clientId: 'app', isPublic: false };
const LIMITS = { capacity: 10, perClient: 10, perPublicClient: 10 };

let dir: string;
let db: Db;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trusty-replay-journal-'));
  db = openDatabase(join(dir, 'trusty.db'));
  migrate(db.sqlite);
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const rows = () => db.sqlite.prepare('SELECT COUNT(*) AS n FROM replay_journal').get() as { n: number };

describe('the replay journal: what the memory cache must not forget on restart', () => {
  it('writes only values that must outlive the process, and the next cache refuses them until they expire', async () => {
    const c = manualClock();
    const journal = new SqliteReplayJournal(db.sqlite, c.fn);
    const before = new MemoryReplayCache(LIMITS, c.fn, c.now, journal);
    expect(await before.firstUse(APP, 'synced', c.now + 70)).toBe(true);
    expect(await before.firstUse(APP, 'ahead', c.now + 75, true)).toBe(true);
    expect(rows().n).toBe(1);

    c.now += 1;
    const after = new MemoryReplayCache(LIMITS, c.fn, c.now, new SqliteReplayJournal(db.sqlite, c.fn));
    expect(await after.firstUse(APP, 'ahead', c.now + 75)).toBe(false);
    // Another client, or a public one, cannot use it either: the digest is the key's.
    expect(await after.firstUse({ clientId: 'spa', isPublic: true }, 'ahead', c.now + 75)).toBe(false);
    c.now += 75;
    expect(await after.firstUse(APP, 'ahead', c.now + 75)).toBe(true);
  });

  it('refuses a value another process on the database persisted first', async () => {
    const c = manualClock();
    const a = new MemoryReplayCache(LIMITS, c.fn, c.now, new SqliteReplayJournal(db.sqlite, c.fn));
    const b = new MemoryReplayCache(LIMITS, c.fn, c.now, new SqliteReplayJournal(db.sqlite, c.fn));
    expect(await a.firstUse(APP, 'ahead', c.now + 75, true)).toBe(true);
    expect(await b.firstUse(APP, 'ahead', c.now + 75, true)).toBe(false);
  });

  it('deletes expired rows; an expired row does not block the same digest', () => {
    const c = manualClock();
    const journal = new SqliteReplayJournal(db.sqlite, c.fn);
    expect(journal.save(42, c.now + 10)).toBe(true);
    expect(journal.save(42, c.now + 10)).toBe(false);
    c.now += 10;
    expect(journal.save(42, c.now + 10)).toBe(true);
    c.now += 10;
    expect(journal.forgetExpired(c.now)).toBe(1);
    expect(rows().n).toBe(0);
  });

  it('forgets a value it could not persist, so the failed request leaves it unused', async () => {
    const c = manualClock();
    const failing = { save: () => { throw new Error('disk full'); }, live: () => [], forgetExpired: () => 0 };
    const cache = new MemoryReplayCache(LIMITS, c.fn, c.now, failing);
    await expect(cache.firstUse(APP, 'ahead', c.now + 75, true)).rejects.toThrow('disk full');
    expect(await cache.firstUse(APP, 'ahead', c.now + 75)).toBe(true);
  });
});
