import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, CompactSign } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../application/ports/clock.js';
import { SIGNING_ALGS } from '../../domain/client.js';
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
    clock.time = T0 + 89 * DAY;
    await keys.maintain();
    const next = keys.store.jwks().keys.find((key) => key.alg === 'ES256' && key.kid !== first)!.kid!;
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
    // The first start: one active key per algorithm, nothing prepublished.
    const firsts = Object.fromEntries(SIGNING_ALGS.map((alg) => [alg, keys.store.signingKey(alg).kid]));
    expect(keys.store.jwks().keys.map((key) => key.alg)).toEqual([...SIGNING_ALGS]);
    for (const key of keys.store.jwks().keys) expect(Object.keys(key).sort()).toEqual(expect.arrayContaining(['alg', 'kid', 'kty', 'use']));
    for (const key of keys.store.jwks().keys) expect(key).not.toHaveProperty('d');
    const atStart = keys.store.jwks();

    // Until a prepublication before the end of the interval: nothing to do, the same JWKS object.
    clock.time = T0 + 89 * DAY - 1;
    await keys.maintain();
    expect(keys.store.jwks()).toBe(atStart);

    // Prepublished: in the JWKS (after the active keys), not signing.
    clock.time = T0 + 89 * DAY;
    await keys.maintain();
    expect(kids(keys)).toHaveLength(8);
    expect(kids(keys).slice(0, 4)).toEqual(SIGNING_ALGS.map((alg) => firsts[alg]));
    const listed = await keys.lifecycle.list();
    const next = listed.find((key) => key.alg === 'ES256' && key.kid !== firsts.ES256)!;
    expect(next).toMatchObject({ activatesAt: T0 + 90 * DAY, createdAt: T0 + 89 * DAY, retiresAt: undefined });
    expect(listed.find((key) => key.kid === firsts.ES256)).toMatchObject({ retiresAt: T0 + 90 * DAY, removesAt: T0 + 90 * DAY + RETENTION });
    clock.time = T0 + 90 * DAY - 1;
    expect(signingKid(keys)).toBe(firsts.ES256);

    // Active at its second, with no reload: the store works it out from the clock.
    clock.time = T0 + 90 * DAY;
    expect(signingKid(keys)).toBe(next.kid);
    expect(kids(keys)[0]).toBe(next.kid);
    // Retired: still verifies, until its removal second.
    clock.time = T0 + 90 * DAY + RETENTION - 1;
    expect(keys.store.verificationKey(firsts.ES256!)).toBeDefined();
    clock.time = T0 + 90 * DAY + RETENTION;
    expect(keys.store.verificationKey(firsts.ES256!)).toBeUndefined();
    expect(kids(keys)).toHaveLength(4);
    await keys.maintain();
    expect(await keys.db.kysely.selectFrom('signing_keys').select('kid').where('kid', '=', firsts.ES256!).execute()).toEqual([]);
  });

  it('rotates on demand: the prepublished key signs now, the old one retires now, a successor is prepublished; other processes reload', async () => {
    const clock = new FrozenClock();
    const keys = await open(clock);
    const other = await open(clock, {}, { ...database(keys.dir), dir: keys.dir });
    clock.time = T0 + 89 * DAY;
    await keys.maintain();
    await other.store.reload();
    const old = signingKid(keys);
    const prepublished = kids(keys).find((kid, i) => i >= 4 && kid !== undefined && keys.store.verificationKey(kid)?.alg === 'ES256')!;

    clock.time = T0 + 89 * DAY + 10;
    const [rotation] = await keys.lifecycle.rotate(['ES256'], clock.time);
    expect(rotation).toEqual({ alg: 'ES256', retired: old, active: prepublished, activatesAt: clock.time, next: expect.any(String) });
    // This process signs with it once rotate returns.
    expect(signingKid(keys)).toBe(prepublished);
    expect(keys.store.signingKey('PS256')).toBe(keys.store.signingKey('PS256'));
    const listed = await keys.lifecycle.list();
    expect(listed.find((key) => key.kid === rotation!.next)).toMatchObject({ activatesAt: clock.time + 90 * DAY });
    expect(listed.find((key) => key.kid === old)).toMatchObject({ retiresAt: clock.time, removesAt: clock.time + RETENTION });

    // The other process notices on its next poll, reloads in the background, and meanwhile signs with the old key.
    expect(signingKid(other)).toBe(old);
    other.changes.poll();
    await other.store.reload();
    expect(signingKid(other)).toBe(prepublished);
    expect(other.store.verificationKey(rotation!.next!)).toBeDefined();
  });

  it('never activates two keys of an algorithm in one second: the new key follows a second later, and a retry within it repeats the rotation', async () => {
    const clock = new FrozenClock();
    const keys = await open(clock);
    const started = keys.store.signingKey('EdDSA').kid;
    const [first] = await keys.lifecycle.rotate(['EdDSA'], clock.time);
    expect(first).toEqual({ alg: 'EdDSA', retired: started, active: expect.any(String), activatesAt: T0 + 1, next: expect.any(String) });
    expect(await keys.lifecycle.rotate(['EdDSA'], clock.time)).toEqual([first]);
    expect(keys.store.signingKey('EdDSA').kid).toBe(started);
    clock.time = T0 + 1;
    expect(keys.store.signingKey('EdDSA').kid).toBe(first!.active);
    const [second] = await keys.lifecycle.rotate(['EdDSA'], clock.time);
    expect(second).toEqual({ alg: 'EdDSA', retired: first!.active, active: first!.next, activatesAt: T0 + 2, next: expect.any(String) });
    expect(await keys.db.kysely.selectFrom('signing_keys').select('kid').where('alg', '=', 'EdDSA').execute()).toHaveLength(4);
  });

  it('two processes on one database rotate once: the key created by the first is the successor of both', async () => {
    const clock = new FrozenClock();
    const a = await open(clock);
    const b = await open(clock, {}, { ...database(a.dir), dir: a.dir });
    clock.time = T0 + 89 * DAY;
    await Promise.all([a.maintain(), b.maintain()]);
    const rows = await a.db.kysely.selectFrom('signing_keys').select(['alg']).execute();
    expect(rows).toHaveLength(8);
    // Each sees the other's keys at its next maintenance (or request) at the latest.
    await Promise.all([a.maintain(), b.maintain()]);
    expect(kids(a)).toHaveLength(8);
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
    // A rotation due then (first start of a missing algorithm, say) would write nothing either.
    clock.time = T0 + 89 * DAY;
    await expect(open(clock, {}, at)).rejects.toThrow('the signing keys are encrypted: set TRUSTY_KEK to the key-encryption key they were written with');
    expect(await at.db.kysely.selectFrom('signing_keys').select('kid').execute()).toHaveLength(4);
  });

  it('stores keys sealed, seals the plaintext ones at start, and opens them again with the same KEK', async () => {
    const clock = new FrozenClock();
    const plain = await open(clock);
    const rowsOf = () => plain.db.kysely.selectFrom('signing_keys').select(['kid', 'private_jwk']).execute();
    for (const row of await rowsOf()) expect(JSON.parse(row.private_jwk)).toHaveProperty('d');
    const before = Object.fromEntries(SIGNING_ALGS.map((alg) => [alg, plain.store.signingKey(alg).kid]));

    const sealed = await open(clock, { TRUSTY_KEK: kek }, { ...database(plain.dir), dir: plain.dir });
    clock.time = T0 + 89 * DAY;
    await sealed.maintain(); // and a new key, written sealed
    const rows = await rowsOf();
    expect(rows).toHaveLength(8);
    for (const row of rows) {
      expect(row.private_jwk).toMatch(/^eyJ[\w-]*\.\.[\w-]+\.[\w-]+\.[\w-]+$/); // compact JWE, dir: no encrypted key
      expect(() => JSON.parse(row.private_jwk)).toThrow();
    }
    const again = await open(clock, { TRUSTY_KEK: kek }, { ...database(plain.dir), dir: plain.dir });
    expect(Object.fromEntries(SIGNING_ALGS.map((alg) => [alg, again.store.signingKey(alg).kid]))).toEqual(before);
  });
});
