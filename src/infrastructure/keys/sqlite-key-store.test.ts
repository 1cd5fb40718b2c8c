import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, CompactSign } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../application/ports/clock.js';
import { SIGNING_ALGS } from '../../domain/client.js';
import { MAX_PUBLISHED_KEYS_PER_ALG, MIN_ROTATION_GAP_SECONDS, RotationRefused } from '../../domain/signing-key.js';
import { openDatabase, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { createLogger } from '../logger.js';
import { ControlVersion } from '../sqlite/control-version.js';
import { openSigningKeys, REMOVAL_MARGIN_SECONDS, rotationPolicy, type SigningKeys } from './open-keys.js';

const DAY = 86_400;
const T0 = 1_700_000_000;
const CONFIG = {
  keys: { rotation_interval_days: 90, prepublish_hours: 24 },
  tokens: { access_token_ttl: 600, id_token_ttl: 900 },
  session: { ttl: 3600 },
} as Parameters<typeof rotationPolicy>[0];
const RETENTION = 3600 + REMOVAL_MARGIN_SECONDS;
const log = createLogger('silent');

class FrozenClock implements Clock {
  constructor(public time = T0) {}
  now(): number {
    return this.time;
  }
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function database(dir = mkdtempSync(join(tmpdir(), 'trusty-keys-'))): { db: Db; dir: string; changes: ControlVersion } {
  const db = openDatabase(join(dir, 'trusty.db'));
  migrate(db.sqlite);
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanup.push(() => db.close());
  return { db, dir, changes: new ControlVersion(db.sqlite) };
}

async function open(clock: Clock, env: NodeJS.ProcessEnv = {}, at = database()): Promise<SigningKeys & { db: Db; dir: string; changes: ControlVersion }> {
  const keys = await openSigningKeys(at.db.kysely, CONFIG, at.changes, clock, log, env);
  keys.followChanges(at.changes);
  return { ...keys, ...at };
}

const kids = (keys: SigningKeys) => keys.store.jwks().keys.map((key) => key.kid);
const signingKid = (keys: SigningKeys) => keys.store.signingKey('ES256').kid;

describe('signing key lifecycle in the key store', () => {
  it('a key prepublished is not used to sign, a retired one still verifies, a removed one does not', async () => {
    const clock = new FrozenClock();
    const keys = await open(clock);
    const first = signingKid(keys);
    // Published from the first start.
    const next = keys.store.jwks().keys.find((key) => key.alg === 'ES256' && key.kid !== first)!.kid!;
    clock.time = T0 + 90 * DAY - 1;
    expect(signingKid(keys)).toBe(first);
    expect(keys.store.verificationKey(next)).toBeDefined();

    clock.time = T0 + 90 * DAY;
    expect(signingKid(keys)).toBe(next);
    clock.time = T0 + 90 * DAY + RETENTION - 1;
    expect(keys.store.verificationKey(first)?.alg).toBe('ES256');
    expect(kids(keys)).toContain(first);
    clock.time = T0 + 90 * DAY + RETENTION;
    expect(keys.store.verificationKey(first)).toBeUndefined();
    expect(kids(keys)).not.toContain(first);
  });

  it('crosses every boundary with a frozen clock: prepublished, active, retired, removed (and its row deleted)', async () => {
    const clock = new FrozenClock();
    const keys = await open(clock);
    // The first start, in one pass: an active key per algorithm, and its successor already published.
    const firsts = Object.fromEntries(SIGNING_ALGS.map((alg) => [alg, keys.store.signingKey(alg).kid]));
    expect(keys.store.jwks().keys.map((key) => key.alg)).toEqual([...SIGNING_ALGS, ...SIGNING_ALGS]);
    expect(kids(keys).slice(0, 4)).toEqual(SIGNING_ALGS.map((alg) => firsts[alg]));
    for (const key of keys.store.jwks().keys) expect(Object.keys(key).sort()).toEqual(expect.arrayContaining(['alg', 'kid', 'kty', 'use']));
    for (const key of keys.store.jwks().keys) expect(key).not.toHaveProperty('d');
    const listed = await keys.lifecycle.list();
    expect(listed).toHaveLength(8);
    const next = listed.find((key) => key.alg === 'ES256' && key.kid !== firsts.ES256)!;
    expect(next).toMatchObject({ activatesAt: T0 + 90 * DAY, createdAt: T0, retiresAt: undefined });
    expect(listed.find((key) => key.kid === firsts.ES256)).toMatchObject({ createdAt: T0, activatesAt: T0, retiresAt: T0 + 90 * DAY, removesAt: T0 + 90 * DAY + RETENTION });
    expect(keys.store.verificationKey(next.kid)?.alg).toBe('ES256');
    const atStart = keys.store.jwks();

    // Throughout the interval: nothing to do, the same JWKS object.
    for (const at of [T0 + DAY, T0 + 89 * DAY, T0 + 90 * DAY - 1]) {
      clock.time = at;
      await keys.maintain();
      expect(keys.store.jwks()).toBe(atStart);
    }
    expect(signingKid(keys)).toBe(firsts.ES256);

    // Active at its second, with no reload: the store works it out from the clock.
    clock.time = T0 + 90 * DAY;
    expect(signingKid(keys)).toBe(next.kid);
    expect(kids(keys)[0]).toBe(next.kid);
    // The maintenance then publishes its successor, due at the end of its interval.
    await keys.maintain();
    expect(kids(keys)).toHaveLength(12);
    const after = await keys.lifecycle.list();
    expect(after.filter((key) => key.alg === 'ES256').map(({ kid, createdAt, activatesAt }) => ({ kid, createdAt, activatesAt }))).toEqual([
      { kid: firsts.ES256, createdAt: T0, activatesAt: T0 },
      { kid: next.kid, createdAt: T0, activatesAt: T0 + 90 * DAY },
      { kid: expect.any(String), createdAt: T0 + 90 * DAY, activatesAt: T0 + 180 * DAY },
    ]);
    await keys.maintain();
    expect(kids(keys)).toHaveLength(12); // no second successor

    // Retired: still verifies, until its removal second.
    clock.time = T0 + 90 * DAY + RETENTION - 1;
    expect(keys.store.verificationKey(firsts.ES256!)).toBeDefined();
    clock.time = T0 + 90 * DAY + RETENTION;
    expect(keys.store.verificationKey(firsts.ES256!)).toBeUndefined();
    expect(kids(keys)).toHaveLength(8);
    await keys.maintain();
    expect(await keys.db.kysely.selectFrom('signing_keys').select('kid').where('kid', '=', firsts.ES256!).execute()).toEqual([]);
  });

  it('rotates on demand: the prepublished key signs now, the old one retires now, a successor is prepublished; other processes reload', async () => {
    const clock = new FrozenClock();
    const keys = await open(clock);
    const other = await open(clock, {}, { ...database(keys.dir), dir: keys.dir });
    const old = signingKid(keys);
    // Published since the first start, in both processes.
    const prepublished = kids(keys).find((kid, i) => i >= 4 && kid !== undefined && keys.store.verificationKey(kid)?.alg === 'ES256')!;
    expect(other.store.verificationKey(prepublished)).toBeDefined();

    clock.time = T0 + 5 * DAY;
    const [rotation] = await keys.lifecycle.rotate(['ES256'], clock.time);
    expect(rotation).toEqual({ alg: 'ES256', retired: old, active: prepublished, activatesAt: clock.time, next: expect.any(String) });
    expect(kids(keys)).toContain(rotation!.next);
    // This process signs with it once rotate returns.
    expect(signingKid(keys)).toBe(prepublished);
    expect(keys.store.signingKey('PS256')).toBe(keys.store.signingKey('PS256'));
    const listed = await keys.lifecycle.list();
    expect(listed.find((key) => key.kid === rotation!.next)).toMatchObject({ activatesAt: clock.time + 90 * DAY });
    expect(listed.find((key) => key.kid === old)).toMatchObject({ retiresAt: clock.time, removesAt: clock.time + RETENTION });
    // One successor per algorithm: the rotation's, and the maintenance adds none.
    await keys.maintain();
    expect((await keys.lifecycle.list()).filter((key) => key.activatesAt > clock.time).map((key) => key.alg).sort()).toEqual([...SIGNING_ALGS].sort());

    // The other process notices on its next poll, reloads in the background, and meanwhile signs with the old key.
    expect(signingKid(other)).toBe(old);
    other.changes.poll();
    await other.store.reload();
    expect(signingKid(other)).toBe(prepublished);
    expect(other.store.verificationKey(rotation!.next!)).toBeDefined();
  });

  it('never activates two keys of an algorithm in one second (forced): the new key follows a second later, and a retry within it repeats the rotation', async () => {
    const clock = new FrozenClock();
    const keys = await open(clock);
    const started = keys.store.signingKey('EdDSA').kid;
    const [first] = await keys.lifecycle.rotate(['EdDSA'], clock.time, true);
    expect(first).toEqual({ alg: 'EdDSA', retired: started, active: expect.any(String), activatesAt: T0 + 1, next: expect.any(String) });
    expect(await keys.lifecycle.rotate(['EdDSA'], clock.time, true)).toEqual([first]);
    expect(keys.store.signingKey('EdDSA').kid).toBe(started);
    clock.time = T0 + 1;
    expect(keys.store.signingKey('EdDSA').kid).toBe(first!.active);
    const [second] = await keys.lifecycle.rotate(['EdDSA'], clock.time, true);
    expect(second).toEqual({ alg: 'EdDSA', retired: first!.active, active: first!.next, activatesAt: T0 + 2, next: expect.any(String) });
    expect(await keys.db.kysely.selectFrom('signing_keys').select('kid').where('alg', '=', 'EdDSA').execute()).toHaveLength(4);
  });

  it('refuses a rotation within 300 s of the last activation unless forced, and beyond 12 published keys of an algorithm even forced', async () => {
    const clock = new FrozenClock();
    const keys = await open(clock);
    await expect(keys.lifecycle.rotate(['ES256'], clock.time)).rejects.toThrow(new RotationRefused('ES256 was rotated 0 s ago: relying parties may cache the JWKS 300 s; retry in 300 s, or force it'));
    clock.time = T0 + MIN_ROTATION_GAP_SECONDS;
    const [rotated] = await keys.lifecycle.rotate(['ES256'], clock.time);
    expect(rotated!.activatesAt).toBe(T0 + MIN_ROTATION_GAP_SECONDS);
    // Forced, each rotation adds one published key (the retired one stays until its removal).
    for (let published = 3; published < MAX_PUBLISHED_KEYS_PER_ALG; published++) {
      clock.time += 1;
      await keys.lifecycle.rotate(['ES256'], clock.time, true);
    }
    clock.time += 1;
    await expect(keys.lifecycle.rotate(['ES256'], clock.time, true)).rejects.toThrow(`ES256 has ${MAX_PUBLISHED_KEYS_PER_ALG} published keys (at most ${MAX_PUBLISHED_KEYS_PER_ALG}): wait until retired ones are removed`);
  });

  it('two processes on one database rotate once: the keys created by the first are those of both', async () => {
    const clock = new FrozenClock();
    // The first start of both at once: one signing key and one successor per algorithm.
    const at = database();
    const [a, b] = await Promise.all([open(clock, {}, at), open(clock, {}, { ...database(at.dir), dir: at.dir })]);
    const rowsOf = () => a.db.kysely.selectFrom('signing_keys').select(['alg', 'activates_at']).execute();
    expect(await rowsOf()).toHaveLength(8);
    expect(kids(a)).toHaveLength(8);
    expect(kids(a)).toEqual(kids(b));
    // The successors activate: each process would publish the next one; one does.
    clock.time = T0 + 90 * DAY;
    await Promise.all([a.maintain(), b.maintain()]);
    const rows = await rowsOf();
    expect(rows).toHaveLength(12);
    expect(rows.filter((row) => row.activates_at === T0 + 180 * DAY)).toHaveLength(4);
    // Each sees the other's keys at its next maintenance (or request) at the latest.
    await Promise.all([a.maintain(), b.maintain()]);
    expect(kids(a)).toHaveLength(12);
    expect(kids(a)).toEqual(kids(b));
  });

  it('signs and verifies with every algorithm, keys imported once per load', async () => {
    const clock = new FrozenClock();
    const keys = await open(clock);
    for (const alg of SIGNING_ALGS) {
      const key = keys.store.signingKey(alg);
      expect(keys.store.signingKey(alg)).toBe(key);
      const jws = await new CompactSign(new TextEncoder().encode('x')).setProtectedHeader({ alg, kid: key.kid }).sign(key.privateKey);
      const verification = keys.store.verificationKey(key.kid)!;
      expect((await compactVerify(jws, verification.key, { algorithms: [verification.alg] })).protectedHeader.kid).toBe(key.kid);
    }
  });
});

describe('private keys at rest (TRUSTY_KEK)', () => {
  const kek = randomBytes(32).toString('base64url');

  it('refuses to start with sealed keys and no KEK, or another KEK, naming TRUSTY_KEK, and writes no key then', async () => {
    const clock = new FrozenClock();
    const sealed = await open(clock, { TRUSTY_KEK: kek });
    const at = { ...database(sealed.dir), dir: sealed.dir };
    await expect(open(clock, {}, at)).rejects.toThrow(/^signing key [\w-]+ is encrypted: set TRUSTY_KEK to the key-encryption key it was written with$/);
    await expect(open(clock, { TRUSTY_KEK: randomBytes(32).toString('base64url') }, at)).rejects.toThrow(/does not decrypt with TRUSTY_KEK: it was written with another key-encryption key$/);
    await expect(open(clock, { TRUSTY_KEK: 'not-a-key' }, at)).rejects.toThrow(/^TRUSTY_KEK must be 32 random bytes in base64url/);
    // A rotation due then (the successors activate and need successors of their own) would write nothing either.
    clock.time = T0 + 90 * DAY;
    await expect(open(clock, {}, at)).rejects.toThrow('the signing keys are encrypted: set TRUSTY_KEK to the key-encryption key they were written with');
    expect(await at.db.kysely.selectFrom('signing_keys').select('kid').execute()).toHaveLength(8);
  });

  it('stores keys sealed, seals the plaintext ones at start, and opens them again with the same KEK', async () => {
    const clock = new FrozenClock();
    const plain = await open(clock);
    const rowsOf = () => plain.db.kysely.selectFrom('signing_keys').select(['kid', 'private_jwk']).execute();
    for (const row of await rowsOf()) expect(JSON.parse(row.private_jwk)).toHaveProperty('d');
    expect(await rowsOf()).toHaveLength(8);

    const sealed = await open(clock, { TRUSTY_KEK: kek }, { ...database(plain.dir), dir: plain.dir });
    clock.time = T0 + 90 * DAY;
    await sealed.maintain(); // and new keys, written sealed
    const before = Object.fromEntries(SIGNING_ALGS.map((alg) => [alg, sealed.store.signingKey(alg).kid]));
    const rows = await rowsOf();
    expect(rows).toHaveLength(12);
    for (const row of rows) {
      expect(row.private_jwk).toMatch(/^eyJ[\w-]*\.\.[\w-]+\.[\w-]+\.[\w-]+$/); // compact JWE, dir: no encrypted key
      expect(() => JSON.parse(row.private_jwk)).toThrow();
    }
    const again = await open(clock, { TRUSTY_KEK: kek }, { ...database(plain.dir), dir: plain.dir });
    expect(Object.fromEntries(SIGNING_ALGS.map((alg) => [alg, again.store.signingKey(alg).kid]))).toEqual(before);
    expect(kids(again)).toEqual(kids(sealed));
  });
});
