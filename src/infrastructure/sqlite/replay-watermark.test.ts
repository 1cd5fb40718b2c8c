import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../../test/unit/fixtures.js';
import type { ReplayOwner } from '../../application/ports/replay-cache.js';
import { MemoryReplayCache } from '../cache/memory-replay-cache.js';
import { openDatabase, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { SqliteReplayWatermark } from './replay-watermark.js';

const APP: ReplayOwner = { clientId: 'app', isPublic: false };
const LIMITS = { capacity: 10, perClient: 10, perPublicClient: 10 };

let dir: string;
let db: Db;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trusty-replay-watermark-'));
  db = openDatabase(join(dir, 'trusty.db'));
  migrate(db.sqlite);
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Counts the watermark's writes, to prove a synced client's requests cost none. */
function counted(watermark: SqliteReplayWatermark) {
  let writes = 0;
  const raise = watermark.raise.bind(watermark);
  watermark.raise = (anchor) => {
    writes++;
    raise(anchor);
  };
  return { watermark, writes: () => writes };
}

describe('the replay watermark: what the next process must refuse (replay-window.ts)', () => {
  it('keeps the latest anchor, whichever process writes last', () => {
    const one = new SqliteReplayWatermark(db.sqlite);
    const other = new SqliteReplayWatermark(db.sqlite);
    expect(one.read()).toBe(-Infinity);
    one.raise(1_000);
    other.raise(990);
    expect(one.read()).toBe(1_000);
    other.raise(1_005);
    expect(one.read()).toBe(1_005);
  });

  it('is written only for an anchor in the future that passes the last one, and refused up to it by the next cache', async () => {
    const clock = manualClock(1_000);
    const { watermark, writes } = counted(new SqliteReplayWatermark(db.sqlite));
    const cache = new MemoryReplayCache(LIMITS, clock.fn, 999, watermark);
    expect(cache.remembersSince()).toBe(999);
    expect(await cache.firstUse(APP, 'synced', 1_070)).toBe(true);
    expect(await cache.firstUse(APP, 'ahead-5', 1_075, 1_005)).toBe(true);
    expect(await cache.firstUse(APP, 'ahead-3', 1_073, 1_003)).toBe(true);
    expect(await cache.firstUse(APP, 'ahead-5-again', 1_075, 1_005)).toBe(true);
    expect(writes()).toBe(1);

    // The next process starts at 1 001: what the first accepted up to 1 005 is refused.
    const next = new MemoryReplayCache(LIMITS, clock.fn, 1_001, new SqliteReplayWatermark(db.sqlite));
    expect(next.remembersSince()).toBe(1_005);
    // A start after the watermark: the start second rules.
    expect(new MemoryReplayCache(LIMITS, clock.fn, 1_010, new SqliteReplayWatermark(db.sqlite)).remembersSince()).toBe(1_010);
  });

  it('does not remember a value whose watermark could not be written: the request fails, the value stays unused', async () => {
    const clock = manualClock(1_000);
    const watermark = new SqliteReplayWatermark(db.sqlite);
    const failure = new Error('disk I/O error');
    watermark.raise = () => {
      throw failure;
    };
    const cache = new MemoryReplayCache(LIMITS, clock.fn, 999, watermark);
    await expect(cache.firstUse(APP, 'ahead', 1_075, 1_005)).rejects.toBe(failure);
    expect(await cache.firstUse(APP, 'ahead', 1_075)).toBe(true);
  });
});
