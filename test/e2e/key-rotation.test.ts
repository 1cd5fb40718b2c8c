import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import SQLite from 'better-sqlite3';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adminClientEntry, adminFetch, adminToken } from '../support/admin.js';
import { Browser } from '../support/browser.js';
import { runCli } from '../support/cli.js';
import { basic, obtainCode, postForm } from '../support/flow.js';
import { freePort, POST_SECRET, startServer, startServerAt, type TestServer } from '../support/server.js';

/**
 * Signing key lifecycle (docs/keys.md): prepublished → active → retired → removed, on a clock
 * that crosses every boundary, each token checked by a relying party against the published JWKS
 * (jose's remote key set, as an RP or resource server uses it).
 */
const DAY = 86_400;
const MACHINE = basic('machine', 'machine-secret-0123456789-abcdefghijklmnopqrstuvwxyz');
// The test config's lifetimes: access and ID tokens 600 s, sessions 8 h; plus the 300 s margin.
const RETENTION = 28_800 + 300;

async function accessToken(server: TestServer): Promise<string> {
  const response = await postForm(server.issuer + '/token', { grant_type: 'client_credentials' }, { authorization: MACHINE });
  expect(response.status).toBe(200);
  return response.json.access_token as string;
}

/** An ID token of post-app (PS256) through the code flow, with the browser holding its session. */
async function idToken(server: TestServer): Promise<{ token: string; browser: Browser }> {
  const { code, verifier, redirectUri, browser } = await obtainCode(server, 'post-app', { scope: 'openid email' });
  const response = await postForm(server.issuer + '/token', {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: redirectUri,
    client_id: 'post-app',
    client_secret: POST_SECRET,
  });
  expect(response.status).toBe(200);
  return { token: response.json.id_token as string, browser };
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid!;

/** Moves the server's clock to `second` (relative moves would drift with the real time the test takes). */
const moveTo = (server: TestServer, second: number) => server.clock.advance(Math.max(0, second - server.clock.now()));

/** Waits, in real time, until the server's clock reaches `second` (where the CLI, on the real clock, is involved). */
async function waitUntil(server: TestServer, second: number): Promise<void> {
  while (server.clock.now() < second) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** A relying party that fetches the JWKS once and never again (counted): it knows only what was published then. */
async function cachingRp(server: TestServer) {
  let fetches = 0;
  const keys = createRemoteJWKSet(new URL(server.issuer + '/.well-known/jwks.json'), {
    cooldownDuration: Number.MAX_SAFE_INTEGER,
    cacheMaxAge: Infinity,
    [customFetch]: (url, options) => {
      fetches++;
      return fetch(url, options);
    },
  });
  await keys.reload();
  return { keys, fetches: () => fetches };
}

type KeySet = Awaited<ReturnType<typeof cachingRp>>['keys'];

/** Verifies as an RP would at the server's (moved) time: signature by kid, iss, exp. */
async function verify(server: TestServer, keys: KeySet, token: string, audience: string) {
  return jwtVerify(token, keys, { issuer: server.issuer, audience, currentDate: new Date(server.clock.now() * 1000) });
}

async function jwksOf(server: TestServer): Promise<JSONWebKeySet> {
  const response = await fetch(server.issuer + '/.well-known/jwks.json');
  expect(response.status).toBe(200);
  return (await response.json()) as JSONWebKeySet;
}

async function publishedKids(server: TestServer): Promise<string[]> {
  return (await jwksOf(server)).keys.map((key) => key.kid!);
}

const ALGS = ['ES256', 'PS256', 'RS256', 'EdDSA'];

async function keysOf(server: TestServer, token: string) {
  const response = await adminFetch(server, token, 'GET', '/keys');
  expect(response.status).toBe(200);
  return response.body.items as Array<{ kid: string; alg: string; state: string; created_at: string; activates_at: string; retires_at: string; removes_at: string }>;
}

async function introspect(server: TestServer, token: string): Promise<boolean> {
  const response = await postForm(server.issuer + '/introspect', { token }, { authorization: MACHINE });
  expect(response.status).toBe(200);
  return response.json.active as boolean;
}

describe('a key rotation on the clock (automatic, every rotation_interval_days)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ clients: [adminClientEntry('trusty:keys:write', 'key-bot')] });
  });
  afterAll(async () => server?.close());

  it('no token fails verification while unexpired: prepublished, active, retired, removed', async () => {
    // Start: one active key per algorithm and its successor, both published at once.
    const startJwks = await jwksOf(server);
    expect(startJwks.keys.map((key) => key.alg)).toEqual([...ALGS, ...ALGS]); // the signing keys first
    const startKids = startJwks.keys.map((key) => key.kid!);
    const at0 = await accessToken(server);
    const id0 = await idToken(server);
    // A relying party that caches the JWKS from the start, and never fetches it again.
    const early = await cachingRp(server);
    await verify(server, early.keys, at0, server.issuer);
    await verify(server, early.keys, id0.token, 'post-app');
    const [oldAt, oldId] = [kidOf(at0), kidOf(id0.token)];
    expect(startKids.slice(0, 4)).toEqual(expect.arrayContaining([oldAt, oldId]));

    // The schedule says when each successor signs: a full interval after the start.
    const listed = await keysOf(server, await adminToken(server, 'key-bot'));
    expect(listed.map((key) => key.state)).toEqual(['active', 'prepublished', 'active', 'prepublished', 'active', 'prepublished', 'active', 'prepublished']);
    const next = listed.find((key) => key.alg === 'ES256' && key.state === 'prepublished')!;
    const nextId = listed.find((key) => key.alg === 'PS256' && key.state === 'prepublished')!;
    expect(startKids.slice(4)).toEqual(expect.arrayContaining([next.kid, nextId.kid]));
    expect(listed.find((key) => key.kid === oldAt)).toMatchObject({ state: 'active', retires_at: next.activates_at });
    const activation = Date.parse(next.activates_at) / 1000;
    expect(activation - Date.parse(next.created_at) / 1000).toBe(90 * DAY);

    // The maintenance during the interval changes nothing.
    server.clock.advance(89 * DAY);
    await server.trusty.maintainKeys();
    expect(await publishedKids(server)).toEqual(startKids);

    // Just before its activation: the old key still signs.
    moveTo(server, activation - 5);
    const atLast = await accessToken(server);
    const idLast = await idToken(server);
    expect([kidOf(atLast), kidOf(idLast.token)]).toEqual([oldAt, oldId]);

    // Active: the prepublished key signs at its second, with no reload and no request to the
    // relying party's JWKS: it was published from the start. The old key retired: what it signed verifies.
    moveTo(server, activation);
    const atNew = await accessToken(server);
    const idNew = await idToken(server);
    expect([kidOf(atNew), kidOf(idNew.token)]).toEqual([next.kid, nextId.kid]);
    for (const rp of [early.keys, (await cachingRp(server)).keys]) {
      await verify(server, rp, atLast, server.issuer);
      await verify(server, rp, idLast.token, 'post-app');
      await verify(server, rp, atNew, server.issuer);
      await verify(server, rp, idNew.token, 'post-app');
    }
    expect(early.fetches()).toBe(1);
    expect(await introspect(server, atLast)).toBe(true);

    // The maintenance publishes the new keys' successors, due a full interval after their activation.
    await server.trusty.maintainKeys();
    const successors = (await keysOf(server, await adminToken(server, 'key-bot'))).filter((key) => key.state === 'prepublished');
    expect(successors.map((key) => key.alg)).toEqual(ALGS);
    for (const key of successors) expect(Date.parse(key.activates_at) / 1000).toBe(activation + 90 * DAY);
    expect(await publishedKids(server)).toEqual(expect.arrayContaining(successors.map((key) => key.kid)));

    // Retired, until its tokens expire and beyond (an ID token is an id_token_hint for the
    // session's lifetime): still published, still verified, still a hint.
    moveTo(server, decodeJwt(atLast).exp! - 5);
    await verify(server, (await cachingRp(server)).keys, atLast, server.issuer);
    expect(await introspect(server, atLast)).toBe(true);
    // The old key retired at the activation of its successor.
    moveTo(server, activation + RETENTION - 5);
    expect(await publishedKids(server)).toContain(oldId);
    const hint = await idLast.browser.get(`${server.issuer}/logout?${new URLSearchParams({ id_token_hint: idLast.token })}`);
    expect(hint.status).toBe(200);

    // Removed, at its second: no longer in the JWKS (the document changes with no restart).
    moveTo(server, activation + RETENTION);
    const after = await publishedKids(server);
    expect(after).not.toContain(oldAt);
    expect(after).not.toContain(oldId);
    expect(after).toHaveLength(8);
    expect(after).toEqual(expect.arrayContaining([next.kid, nextId.kid, ...successors.map((key) => key.kid)]));
    const gone = await new Browser().get(`${server.issuer}/logout?${new URLSearchParams({ id_token_hint: idLast.token })}`);
    expect(gone.status).toBe(400);
    // The maintenance deletes the removed rows.
    await server.trusty.maintainKeys();
    expect((await keysOf(server, await adminToken(server, 'key-bot'))).map((key) => key.kid).sort()).toEqual([...after].sort());
  });
});

describe('rotation on demand while the server runs', () => {
  let server: TestServer;
  let keyBot: string;
  /** The JWKS before the first on-demand rotation. */
  let beforeFirstRotation: JSONWebKeySet;
  beforeAll(async () => {
    server = await startServer({ clients: [adminClientEntry('trusty:keys:write', 'key-bot'), adminClientEntry('trusty:clients:read', 'reader')] });
    keyBot = await adminToken(server, 'key-bot');
  });
  afterAll(async () => server?.close());

  it('refuses a token without trusty:keys:write (403), no token (401), and bad input with a 400 problem naming the field', async () => {
    const reader = await adminToken(server, 'reader');
    for (const [method, path] of [['GET', '/keys'], ['POST', '/keys/rotate']] as const) {
      const none = await adminFetch(server, undefined, method, path, method === 'POST' ? {} : undefined);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
      const narrow = await adminFetch(server, reader, method, path, method === 'POST' ? {} : undefined);
      expect(narrow.status).toBe(403);
      expect(narrow.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    }
    for (const [body, field] of [[{ alg: 'HS256' }, 'alg'], [{ alg: 'es256' }, 'alg'], [{ alg: 1 }, 'alg'], [{ colour: 'blue' }, undefined]] as const) {
      const response = await adminFetch(server, keyBot, 'POST', '/keys/rotate', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      if (field !== undefined) expect(response.body).toMatchObject({ status: 400, field });
      else expect(response.body.detail).toContain('colour');
    }
    const cli = await runCli(['--config', server.configPath, 'keys', 'rotate', '--alg', 'HS256']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toBe('trusty: alg: must be one of ES256, PS256, RS256, EdDSA\n');
    // Nothing rotated.
    expect((await keysOf(server, keyBot)).map((key) => key.state)).toEqual(['active', 'prepublished', 'active', 'prepublished', 'active', 'prepublished', 'active', 'prepublished']);
  });

  it('POST /admin/v1/keys/rotate: the key published since the start signs, with no JWKS fetch by a relying party; a successor is published; audited', async () => {
    const before = await accessToken(server);
    // A relying party that fetched the JWKS once, before the rotation.
    const rp = await cachingRp(server);
    beforeFirstRotation = await jwksOf(server);
    const prepublished = (await keysOf(server, keyBot)).find((key) => key.alg === 'ES256' && key.state === 'prepublished')!;
    // The first start published the successor a moment ago: JWKS caches may lack it for 300 s.
    const tooSoon = await adminFetch(server, keyBot, 'POST', '/keys/rotate', { alg: 'ES256' });
    expect(tooSoon.status).toBe(409);
    expect(tooSoon.body).toMatchObject({ type: 'urn:trusty:problem:conflict', detail: expect.stringMatching(/^ES256 was rotated \d+ s ago: relying parties may cache the JWKS 300 s; retry in \d+ s, or force it$/) });
    const response = await adminFetch(server, keyBot, 'POST', '/keys/rotate', { alg: 'ES256', force: true });
    expect(response.status).toBe(200);
    const [rotation] = response.body.rotated;
    expect(response.body.rotated).toEqual([{ alg: 'ES256', retired: kidOf(before), active: prepublished.kid, activates_at: expect.any(String), next: expect.any(String) }]);
    expect(response.body.items.filter((key: { alg: string }) => key.alg === 'ES256').map((key: { kid: string; state: string }) => [key.kid, key.state])).toEqual([
      [kidOf(before), 'retired'],
      [rotation.active, 'active'],
      [rotation.next, 'prepublished'],
    ]);
    // Within the same second as the start's activation, the new key activates a second later.
    await waitUntil(server, Date.parse(rotation.activates_at) / 1000);
    const afterRotation = await accessToken(server);
    expect(kidOf(afterRotation)).toBe(rotation.active);
    await verify(server, rp.keys, before, server.issuer);
    await verify(server, rp.keys, afterRotation, server.issuer);
    expect(rp.fetches()).toBe(1);
    // The same with the document itself: the new signing key was in it.
    await jwtVerify(afterRotation, createLocalJWKSet(beforeFirstRotation), { issuer: server.issuer, audience: server.issuer });
    // The new successor is published at once.
    expect(await publishedKids(server)).toEqual(expect.arrayContaining([kidOf(before), rotation.active, rotation.next]));
    expect(beforeFirstRotation.keys.map((key) => key.kid)).not.toContain(rotation.next);
    // Other algorithms untouched.
    expect((await keysOf(server, keyBot)).filter((key) => key.alg !== 'ES256').map((key) => key.state)).toEqual(['active', 'prepublished', 'active', 'prepublished', 'active', 'prepublished']);

    const audit = server.trusty.db.sqlite.prepare("SELECT actor, details FROM audit_log WHERE event = 'keys.rotated'");
    await server.trusty.deps.control.flush();
    const rows = audit.all() as Array<{ actor: string; details: string }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.actor).toBe('client:key-bot');
    expect(JSON.parse(rows[0]!.details)).toEqual({ before: [{ alg: 'ES256', kid: kidOf(before) }], after: [{ alg: 'ES256', kid: rotation.active, next: rotation.next }] });
  });

  it('trusty keys rotate (a separate process): the running server signs with the new key on its next request and publishes it', async () => {
    const before = await accessToken(server);
    const prepublished = (await keysOf(server, keyBot)).filter((key) => key.state === 'prepublished').map((key) => key.kid);
    // A relying party that fetched the JWKS once, before the rotation.
    const rp = await cachingRp(server);
    // ES256 was rotated seconds ago (the test above): refused without --force (exit 4, conflict).
    const refused = await runCli(['--config', server.configPath, 'keys', 'rotate', '--alg', 'ES256']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^trusty: ES256 was rotated \d+ s ago/);
    const rotated = await runCli(['--config', server.configPath, '--json', 'keys', 'rotate', '--force']);
    expect(rotated.stderr).toBe('');
    expect(rotated.code).toBe(0);
    const rotations = JSON.parse(rotated.stdout) as Array<{ alg: string; retired: string; active: string; activates_at: string; next: string }>;
    expect(rotations.map((r) => r.alg)).toEqual(['ES256', 'PS256', 'RS256', 'EdDSA']);
    const es256 = rotations[0]!;
    expect(es256.retired).toBe(kidOf(before));
    expect(rotations.map((r) => r.active)).toEqual(prepublished);
    // ES256 rotates the second time within the JWKS max-age: its new signing key was published by
    // the first rotation, and a JWKS cached before that lacks it (docs/keys.md). The others were
    // published from the start.
    const cachedEarlier = beforeFirstRotation.keys.map((key) => key.kid);
    expect(cachedEarlier).not.toContain(es256.active);
    for (const r of rotations.slice(1)) expect(cachedEarlier).toContain(r.active);
    // The CLI's clock is the real one, and so is this server's (never moved in this block).
    await waitUntil(server, Date.parse(es256.activates_at) / 1000);
    // The next request notices the change and starts the reload; until it is done the old key
    // signs. Every token meanwhile verifies against the JWKS fetched before: the new key was prepublished.
    const issued: string[] = [];
    for (let i = 0; i < 100 && (issued.length === 0 || kidOf(issued.at(-1)!) !== es256.active); i++) {
      issued.push(await accessToken(server));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(kidOf(issued.at(-1)!)).toBe(es256.active);
    for (const token of [before, ...issued]) await verify(server, rp.keys, token, server.issuer);
    expect(rp.fetches()).toBe(1);
    const published = await publishedKids(server);
    expect(published).toEqual(expect.arrayContaining(rotations.flatMap((r) => [r.retired, r.active, r.next])));

    const list = await runCli(['--config', server.configPath, 'keys', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^KID\s+ALG\s+STATE\s+ACTIVATES_AT\s+RETIRES_AT\s+REMOVES_AT$/);
    expect(list.stdout).toContain(`${es256.active}  ES256  active`);
  });

  it('creates trusty.db, its -wal and -shm readable by their owner only', () => {
    for (const file of [server.dbPath, `${server.dbPath}-wal`, `${server.dbPath}-shm`]) {
      expect((statSync(file).mode & 0o777).toString(8), file).toBe('600');
    }
  });
});

describe('TRUSTY_KEK: private keys encrypted at rest', () => {
  const kek = randomBytes(32).toString('base64url');
  const dirs: string[] = [];
  afterEach(() => {
    delete process.env.TRUSTY_KEK;
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('stores sealed keys, restarts with the same KEK, and refuses to start without it or with another, naming TRUSTY_KEK', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trusty-kek-'));
    dirs.push(dir);
    const port = await freePort();
    process.env.TRUSTY_KEK = kek;
    const first = await startServerAt(port, dir);
    const token = await accessToken(first);
    await first.close();

    const db = new SQLite(join(dir, 'trusty.db'), { readonly: true });
    const rows = db.prepare('SELECT kid, private_jwk FROM signing_keys').all() as Array<{ kid: string; private_jwk: string }>;
    db.close();
    expect(rows).toHaveLength(8);
    for (const row of rows) {
      expect(row.private_jwk.startsWith('{')).toBe(false);
      expect(row.private_jwk.split('.')).toHaveLength(5);
      expect(row.private_jwk).not.toContain('"d"');
    }

    delete process.env.TRUSTY_KEK;
    await expect(startServerAt(port, dir)).rejects.toThrow(/^signing key [\w-]+ is encrypted: set TRUSTY_KEK to the key-encryption key it was written with$/);
    process.env.TRUSTY_KEK = randomBytes(32).toString('base64url');
    await expect(startServerAt(port, dir)).rejects.toThrow(/does not decrypt with TRUSTY_KEK: it was written with another key-encryption key$/);
    // The CLI needs it too, and says so.
    const cli = await runCli(['--config', join(dir, 'config.yaml'), 'keys', 'rotate', '--force'], { TRUSTY_KEK: '' });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/TRUSTY_KEK/);

    process.env.TRUSTY_KEK = kek;
    const again = await startServerAt(port, dir);
    try {
      const rp = await cachingRp(again);
      await verify(again, rp.keys, token, again.issuer);
      expect(kidOf(await accessToken(again))).toBe(kidOf(token));
      const rotated = await runCli(['--config', join(dir, 'config.yaml'), '--json', 'keys', 'rotate', '--alg', 'EdDSA', '--force'], { TRUSTY_KEK: kek });
      expect(rotated.code).toBe(0);
    } finally {
      await again.close();
    }
  });
});
