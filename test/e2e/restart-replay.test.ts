import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestClock } from '../support/clock.js';
import { ASSERTION_TYPE, clientAssertion, dpopNonce, dpopProof, makeKey, type TestKey } from '../support/fapi.js';
import { postForm } from '../support/flow.js';
import { freePort, startServerAt, type TestServer } from '../support/server.js';

/**
 * Across a restart (server closed, started again on the same SQLite file), in process:
 * DPoP nonces survive (their key is a server secret in the database, shared by every process on
 * it), and what the memory replay cache could not have remembered is refused: an assertion or
 * DPoP proof made before the restart (RFC 7523 §3 (7), RFC 9449 §11.1), an iat at the start
 * second included; one accepted with an iat in the future was persisted and is refused as a
 * replay (src/protocol/replay-window.ts). The restarted server's clock is one second ahead, so
 * "before the start" does not depend on where a second begins, and it answers only from the
 * second after its start on (createTrusty waits), so a fresh value passes at once;
 * test/e2e/replay-restart-process.test.ts does the same with a real process, SIGTERM and SIGKILL.
 */
let svcKey: TestKey;
let dpopKey: TestKey;
const dirs: string[] = [];
const running: TestServer[] = [];

beforeAll(async () => {
  [svcKey, dpopKey] = await Promise.all([makeKey('ES256', 'svc-1'), makeKey('ES256')]);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const SVC = { client_id: 'svc', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [] as unknown[] }, grant_types: ['client_credentials'], scope: 'invoices:read' };

async function start(port: number, dir: string, clock?: TestClock): Promise<TestServer> {
  // One nonce period for a whole test (tests move the clock a few seconds): a nonce seen before a
  // restart is the current one after it, not only the still-valid previous one.
  const settings = { dpop: { nonce_ttl: 3600 } };
  const server = await startServerAt(port, dir, { extra: { clients: [{ ...SVC, jwks: { keys: [svcKey.publicJwk] } }], settings }, clock });
  running.push(server);
  return server;
}

async function restart(server: TestServer, dir: string): Promise<TestServer> {
  await server.close();
  running.splice(running.indexOf(server), 1);
  const clock = new TestClock();
  clock.advance(1);
  return start(Number(new URL(server.issuer).port), dir, clock);
}

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trusty-restart-'));
  dirs.push(dir);
  return dir;
}

function token(server: TestServer, assertion: string, proof: string) {
  return postForm(server.issuer + '/token', { grant_type: 'client_credentials', scope: 'invoices:read', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion }, { dpop: proof });
}

const proof = (server: TestServer, nonce: string) => dpopProof(server, dpopKey, { htu: server.issuer + '/token', nonce });

describe('DPoP nonces across restarts and processes (their key lives in server_secrets)', () => {
  it('accepts after a restart a nonce obtained before it, without a use_dpop_nonce round trip', async () => {
    const dir = newDir();
    const first = await start(await freePort(), dir);
    const nonce = await dpopNonce(first, dpopKey);
    const second = await restart(first, dir);
    const response = await token(second, await clientAssertion(second, 'svc', svcKey), await proof(second, nonce));
    expect(response.json).toMatchObject({ token_type: 'DPoP' });
    expect(response.headers.get('dpop-nonce')).toBe(nonce);
  });

  it('gives the same nonce from two servers on the same database file', async () => {
    const dir = newDir();
    const [a, b] = [await start(await freePort(), dir), await start(await freePort(), dir)];
    const nonce = await dpopNonce(a, dpopKey);
    expect(await dpopNonce(b, dpopKey)).toBe(nonce);
    const response = await token(b, await clientAssertion(b, 'svc', svcKey, { claims: { aud: b.issuer } }), await proof(b, nonce));
    expect(response.status).toBe(200);
  });
});

describe('single use across a restart: what was made before it is refused', () => {
  let server: TestServer;
  let dir: string;
  let nonce: string;
  let usedAssertion: string;
  let usedProof: string;
  let unusedNoIat: string;

  beforeAll(async () => {
    dir = newDir();
    const first = await start(await freePort(), dir);
    nonce = await dpopNonce(first, dpopKey);
    usedAssertion = await clientAssertion(first, 'svc', svcKey);
    usedProof = await proof(first, nonce);
    expect((await token(first, usedAssertion, usedProof)).status).toBe(200);
    const now = first.clock.now();
    unusedNoIat = await new SignJWT({ iss: 'svc', sub: 'svc', aud: first.issuer, jti: randomUUID(), exp: now + 290 }).setProtectedHeader({ alg: 'ES256', kid: 'svc-1' }).sign(svcKey.privateKey);
    server = await restart(first, dir);
    running.splice(running.indexOf(server), 1); // kept across this block's tests
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses the replayed assertion with invalid_client', async () => {
    const response = await token(server, usedAssertion, await proof(server, nonce));
    expect(response.json).toEqual({
      error: 'invalid_client',
      error_description: 'client_assertion may have been used before this server started (its iat, or exp minus 300 s, is earlier): sign a new one',
    });
    expect(response.status).toBe(401);
  });

  it('refuses an assertion without iat whose exp minus 300 s is before the start', async () => {
    const response = await token(server, unusedNoIat, await proof(server, nonce));
    expect(response.json.error_description).toBe('client_assertion may have been used before this server started (its iat, or exp minus 300 s, is earlier): sign a new one');
  });

  it('answers the replayed DPoP proof with use_dpop_nonce and a nonce, so that clients retry by themselves', async () => {
    const response = await token(server, await clientAssertion(server, 'svc', svcKey), usedProof);
    expect(response.json).toEqual({ error: 'use_dpop_nonce', error_description: 'the DPoP proof was made before the server started: send a new proof with this nonce' });
    expect(response.status).toBe(400);
    expect(response.headers.get('dpop-nonce')).toBe(nonce);
  });

  it('accepts a fresh assertion and proof right after the restart', async () => {
    const response = await token(server, await clientAssertion(server, 'svc', svcKey), await proof(server, nonce));
    expect(response.status).toBe(200);
  });
});

describe('single use across a restart without DPoP nonces', () => {
  it('refuses a DPoP proof made before the restart with invalid_dpop_proof', async () => {
    const dir = newDir();
    const port = await freePort();
    const settings = { dpop: { require_nonce: false } };
    const first = await startServerAt(port, dir, { extra: { clients: [{ ...SVC, jwks: { keys: [svcKey.publicJwk] } }], settings } });
    const used = await dpopProof(first, dpopKey, { htu: first.issuer + '/token' });
    expect((await token(first, await clientAssertion(first, 'svc', svcKey), used)).status).toBe(200);
    await first.close();
    const clock = new TestClock();
    clock.advance(1);
    const second = await startServerAt(port, dir, { extra: { clients: [{ ...SVC, jwks: { keys: [svcKey.publicJwk] } }], settings }, clock });
    running.push(second);
    const response = await token(second, await clientAssertion(second, 'svc', svcKey), used);
    expect(response.json).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof was made before the server started: send a new proof' });
    const fresh = await token(second, await clientAssertion(second, 'svc', svcKey), await dpopProof(second, dpopKey, { htu: second.issuer + '/token' }));
    expect(fresh.status).toBe(200);
  });
});

describe('single use across a restart: what was accepted with an iat in the future, and the start second', () => {
  it('refuses after the restart an assertion with iat = now + 5 used before it; a fresh one works', async () => {
    const dir = newDir();
    const first = await start(await freePort(), dir);
    const nonce = await dpopNonce(first, dpopKey);
    const ahead = await clientAssertion(first, 'svc', svcKey, { claims: { iat: first.clock.now() + 5 } });
    expect((await token(first, ahead, await proof(first, nonce))).status).toBe(200);
    const second = await restart(first, dir);
    // The watermark is the used iat (first start + 5): the server refuses every value up to it, so
    // the proof beside the replayed assertion, and the fresh one after, are made past it.
    second.clock.advance(5);
    const replayed = await token(second, ahead, await proof(second, nonce));
    expect(replayed.json).toEqual({
      error: 'invalid_client',
      error_description: 'client_assertion may have been used before this server started (its iat, or exp minus 300 s, is earlier): sign a new one',
    });
    expect(replayed.status).toBe(401);
    const fresh = await token(second, await clientAssertion(second, 'svc', svcKey), await proof(second, nonce));
    expect(fresh.status).toBe(200);
  });

  it('refuses after the restart a DPoP proof with iat = now + 5 used before it; a fresh one works', async () => {
    const dir = newDir();
    const first = await start(await freePort(), dir);
    const nonce = await dpopNonce(first, dpopKey);
    const ahead = await dpopProof(first, dpopKey, { htu: first.issuer + '/token', nonce, claims: { iat: first.clock.now() + 5 } });
    expect((await token(first, await clientAssertion(first, 'svc', svcKey), ahead)).status).toBe(200);
    const second = await restart(first, dir);
    second.clock.advance(5);
    const replayed = await token(second, await clientAssertion(second, 'svc', svcKey), ahead);
    expect(replayed.json).toEqual({ error: 'use_dpop_nonce', error_description: 'the DPoP proof was made before the server started: send a new proof with this nonce' });
    expect(replayed.status).toBe(400);
    const fresh = await token(second, await clientAssertion(second, 'svc', svcKey), await proof(second, nonce));
    expect(fresh.status).toBe(200);
  });

  it('refuses an assertion and a DPoP proof whose iat is the start second (the previous process may have used them in it)', async () => {
    const dir = newDir();
    const port = await freePort();
    await (await start(port, dir)).close();
    running.splice(0);
    // The start second, read on both sides of the start (the server answers from the next second
    // on): tried again if the start took longer.
    let server: TestServer | undefined;
    let startSecond = 0;
    for (let attempt = 0; server === undefined && attempt < 5; attempt++) {
      const clock = new TestClock();
      const before = clock.now();
      const started = await start(port, dir, clock);
      if (clock.now() === before + 1) {
        server = started;
        startSecond = before;
      } else {
        await started.close();
        running.splice(running.indexOf(started), 1);
      }
    }
    expect(server).toBeDefined();
    const nonce = await dpopNonce(server!, dpopKey);
    const atStart = await clientAssertion(server!, 'svc', svcKey, { claims: { iat: startSecond } });
    const response = await token(server!, atStart, await dpopProof(server!, dpopKey, { htu: server!.issuer + '/token', nonce, claims: { iat: startSecond + 1 } }));
    expect(response.json).toEqual({
      error: 'invalid_client',
      error_description: 'client_assertion may have been used before this server started (its iat, or exp minus 300 s, is earlier): sign a new one',
    });
    const proofAtStart = await dpopProof(server!, dpopKey, { htu: server!.issuer + '/token', nonce, claims: { iat: startSecond } });
    const refused = await token(server!, await clientAssertion(server!, 'svc', svcKey, { claims: { iat: startSecond + 1 } }), proofAtStart);
    expect(refused.json).toEqual({ error: 'use_dpop_nonce', error_description: 'the DPoP proof was made before the server started: send a new proof with this nonce' });
  });
});
