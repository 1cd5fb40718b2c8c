import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../../../test/unit/fixtures.js';
import { TemporarilyUnavailable } from '../../protocol/errors.js';
import { MemoryReplayCache, replayDigest } from './memory-replay-cache.js';

describe('MemoryReplayCache', () => {
  it('answers true the first time, false on reuse until expiry, true again from expiry on', async () => {
    const c = manualClock();
    const cache = new MemoryReplayCache(10, c.fn);
    await expect(cache.firstUse('jti-1', 1060)).resolves.toBe(true);
    await expect(cache.firstUse('jti-1', 1060)).resolves.toBe(false);
    c.now = 1059;
    await expect(cache.firstUse('jti-1', 1120)).resolves.toBe(false);
    c.now = 1060;
    await expect(cache.firstUse('jti-1', 1120)).resolves.toBe(true);
    await expect(cache.firstUse('jti-1', 1120)).resolves.toBe(false);
  });

  it('keeps the first expiry: a reuse does not extend it', async () => {
    const c = manualClock();
    const cache = new MemoryReplayCache(10, c.fn);
    await cache.firstUse('jti-1', 1060);
    await cache.firstUse('jti-1', 9999);
    c.now = 1060;
    await expect(cache.firstUse('jti-1', 1120)).resolves.toBe(true);
  });

  it('tells keys apart', async () => {
    const cache = new MemoryReplayCache(10, manualClock().fn);
    await expect(cache.firstUse('a', 2000)).resolves.toBe(true);
    await expect(cache.firstUse('b', 2000)).resolves.toBe(true);
    await expect(cache.firstUse('a', 2000)).resolves.toBe(false);
  });

  it('refuses a new key with temporarily_unavailable when full of live keys', async () => {
    const cache = new MemoryReplayCache(2, manualClock().fn);
    await cache.firstUse('a', 2000);
    await cache.firstUse('b', 2000);
    const error = await cache.firstUse('c', 2000).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TemporarilyUnavailable);
    expect(error).toMatchObject({ error: 'temporarily_unavailable', status: 503, description: 'too many requests in flight; retry shortly' });
  });

  it('still detects a reuse when full', async () => {
    const cache = new MemoryReplayCache(1, manualClock().fn);
    await cache.firstUse('a', 2000);
    await expect(cache.firstUse('a', 2000)).resolves.toBe(false);
  });

  it('accepts new keys again once old ones expire', async () => {
    const c = manualClock();
    const cache = new MemoryReplayCache(1, c.fn);
    await cache.firstUse('a', 1060);
    await expect(cache.firstUse('b', 1060)).rejects.toBeInstanceOf(TemporarilyUnavailable);
    c.now = 1060;
    await expect(cache.firstUse('b', 1120)).resolves.toBe(true);
  });

  it('keys by the first 53 bits of the SHA-256: a whole number a double holds exactly', () => {
    for (const key of ['a', 'client_assertion:svc:' + 'x'.repeat(300), 'dpop:' + 'T'.repeat(43) + ':jti']) {
      const digest = replayDigest(key);
      expect(Number.isSafeInteger(digest)).toBe(true);
      expect(digest).toBeGreaterThanOrEqual(0);
      const hex = createHash('sha256').update(key).digest('hex');
      expect(digest).toBe(Number(BigInt('0x' + hex.slice(0, 14)) >> 3n));
    }
    expect(replayDigest('a')).not.toBe(replayDigest('b'));
  });
});
