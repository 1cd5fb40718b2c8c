import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../../../test/unit/fixtures.js';
import type { ReplayOwner } from '../../application/ports/replay-cache.js';
import { TemporarilyUnavailable } from '../../protocol/errors.js';
import { MemoryReplayCache, replayDigest, type ReplayCacheLimits } from './memory-replay-cache.js';

const APP: ReplayOwner = { clientId: 'app', isPublic: false };
const OTHER: ReplayOwner = { clientId: 'other', isPublic: false };
const SPA: ReplayOwner = { clientId: 'spa', isPublic: true };

function cache(limits: Partial<ReplayCacheLimits> = {}, c = manualClock()) {
  return new MemoryReplayCache({ capacity: 10, perClient: 10, perPublicClient: 10, ...limits }, c.fn, c.now);
}

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => expect.fail('expected temporarily_unavailable'), (thrown: unknown) => thrown);
}

describe('MemoryReplayCache', () => {
  it('answers true the first time, false on reuse until expiry, true again from expiry on', async () => {
    const c = manualClock();
    const replay = cache({}, c);
    await expect(replay.firstUse(APP, 'jti-1', 1060)).resolves.toBe(true);
    await expect(replay.firstUse(APP, 'jti-1', 1060)).resolves.toBe(false);
    c.now = 1059;
    await expect(replay.firstUse(APP, 'jti-1', 1120)).resolves.toBe(false);
    c.now = 1060;
    await expect(replay.firstUse(APP, 'jti-1', 1120)).resolves.toBe(true);
    await expect(replay.firstUse(APP, 'jti-1', 1120)).resolves.toBe(false);
  });

  it('keeps the first expiry: a reuse does not extend it', async () => {
    const c = manualClock();
    const replay = cache({}, c);
    await replay.firstUse(APP, 'jti-1', 1060);
    await replay.firstUse(APP, 'jti-1', 9999);
    c.now = 1060;
    await expect(replay.firstUse(APP, 'jti-1', 1120)).resolves.toBe(true);
  });

  it('tells keys apart', async () => {
    const replay = cache();
    await expect(replay.firstUse(APP, 'a', 2000)).resolves.toBe(true);
    await expect(replay.firstUse(APP, 'b', 2000)).resolves.toBe(true);
    await expect(replay.firstUse(APP, 'a', 2000)).resolves.toBe(false);
  });

  it('says since when it remembers: the instant it was created', () => {
    expect(new MemoryReplayCache({ capacity: 1, perClient: 1, perPublicClient: 1 }, () => 1000, 999.25).remembersSince()).toBe(999.25);
  });

  it('refuses a new key with temporarily_unavailable when full of live keys', async () => {
    const replay = cache({ capacity: 2 });
    await replay.firstUse(APP, 'a', 2000);
    await replay.firstUse(OTHER, 'b', 2000);
    const error = await refusal(replay.firstUse(APP, 'c', 2000));
    expect(error).toBeInstanceOf(TemporarilyUnavailable);
    expect(error).toMatchObject({ error: 'temporarily_unavailable', status: 503, description: 'too many requests in flight; retry shortly' });
  });

  it('still detects a reuse when full', async () => {
    const replay = cache({ capacity: 1 });
    await replay.firstUse(APP, 'a', 2000);
    await expect(replay.firstUse(APP, 'a', 2000)).resolves.toBe(false);
  });

  it('accepts new keys again once old ones expire, even those of a client that stayed quiet', async () => {
    const c = manualClock();
    const replay = cache({ capacity: 1 }, c);
    await replay.firstUse(OTHER, 'a', 1060);
    await expect(replay.firstUse(APP, 'b', 1060)).rejects.toBeInstanceOf(TemporarilyUnavailable);
    c.now = 1060;
    await expect(replay.firstUse(APP, 'b', 1120)).resolves.toBe(true);
  });

  it("bounds each client's share: a client over it gets 503, the others still pass", async () => {
    const replay = cache({ capacity: 10, perClient: 3, perPublicClient: 2 });
    for (const key of ['a', 'b']) await replay.firstUse(SPA, key, 2000);
    const error = await refusal(replay.firstUse(SPA, 'c', 2000));
    expect(error).toMatchObject({ error: 'temporarily_unavailable', status: 503, description: 'too many requests in flight for this client; retry shortly' });
    for (const key of ['a', 'b', 'c']) await expect(replay.firstUse(APP, key, 2000)).resolves.toBe(true);
    await expect(refusal(replay.firstUse(APP, 'd', 2000))).resolves.toBeInstanceOf(TemporarilyUnavailable);
    await expect(replay.firstUse(OTHER, 'a', 2000)).resolves.toBe(true);
    // A reuse within the share is still told apart from a new use.
    await expect(replay.firstUse(SPA, 'a', 2000)).resolves.toBe(false);
  });

  it("frees a client's share as its keys expire", async () => {
    const c = manualClock();
    const replay = cache({ perPublicClient: 1 }, c);
    await replay.firstUse(SPA, 'a', 1010);
    await expect(replay.firstUse(SPA, 'b', 1010)).rejects.toBeInstanceOf(TemporarilyUnavailable);
    c.now = 1010;
    await expect(replay.firstUse(SPA, 'b', 1020)).resolves.toBe(true);
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
