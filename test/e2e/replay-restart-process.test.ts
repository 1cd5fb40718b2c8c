import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ASSERTION_TYPE, makeKey, type TestKey } from '../support/fapi.js';
import { postForm } from '../support/flow.js';
import { freePort } from '../support/server.js';

/**
 * Single use across a real restart (RFC 7523 §3 (7), RFC 9449 §11.1, FAPI 2.0): the server
 * process is stopped with SIGTERM, or killed with SIGKILL, and started again on the same SQLite
 * file. The client assertion and the DPoP proof it accepted before are refused after; a fresh
 * assertion and proof, with the nonce handed out before the restart, pass at once.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_ENTRY = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
const CONTRACT_ENV = ['TRUSTY_CONFIG', 'PORT', 'HOST', 'ISSUER', 'DATABASE_PATH', 'LOG_LEVEL'];

let svcKey: TestKey;
let dpopKey: TestKey;
let dir: string;
let port: number;
let issuer: string;
let configPath: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  [svcKey, dpopKey] = await Promise.all([makeKey('ES256', 'svc-1'), makeKey('ES256')]);
  dir = mkdtempSync(join(tmpdir(), 'trusty-replay-process-'));
  port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  configPath = join(dir, 'config.yaml');
  writeFileSync(
    configPath,
    stringify({
      issuer,
      port,
      log_level: 'warn',
      database: { path: './trusty.db' },
      // One nonce period for the whole test: the nonce seen before the restarts is the one after.
      dpop: { nonce_ttl: 3600 },
      clients: [{ client_id: 'svc', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [svcKey.publicJwk] }, grant_types: ['client_credentials'], scope: 'invoices:read' }],
    }),
  );
});
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Spawns the server as an operator would and waits for GET /health to answer 200. */
async function startProcess(): Promise<ChildProcess> {
  const env = { ...process.env };
  for (const name of CONTRACT_ENV) delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER_ENTRY], { cwd: ROOT, env: { ...env, TRUSTY_CONFIG: configPath }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => children.delete(child), () => undefined);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server exited before it was ready\n${stderr}`);
    try {
      if ((await fetch(`${issuer}/health`, { signal: AbortSignal.timeout(1_000) })).status === 200) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the server was not ready within 15 s\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
  child.kill(signal);
  return exit;
}

const now = () => Math.floor(Date.now() / 1000);

function assertion(): Promise<string> {
  const iat = now();
  return new SignJWT({ iss: 'svc', sub: 'svc', aud: issuer, jti: randomUUID(), iat, exp: iat + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'svc-1' }).sign(svcKey.privateKey);
}

function proof(nonce?: string): Promise<string> {
  const { kid: _kid, use: _use, alg: _alg, ...jwk } = dpopKey.publicJwk;
  return new SignJWT({ jti: randomUUID(), htm: 'POST', htu: `${issuer}/token`, iat: now(), ...(nonce === undefined ? {} : { nonce }) })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
    .sign(dpopKey.privateKey);
}

function token(clientAssertion: string, dpop: string) {
  return postForm(`${issuer}/token`, { grant_type: 'client_credentials', scope: 'invoices:read', client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion }, { dpop });
}

/** Resolves once the wall clock is in a later second than now: what was made before is surely before the next start. */
async function nextSecond(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
}

describe('single use across a real restart', { timeout: 90_000 }, () => {
  it('refuses the assertion and the DPoP proof used before a SIGTERM, then a SIGKILL, and accepts fresh ones right after', async () => {
    let server = await startProcess();
    const asked = await token(await assertion(), await proof());
    expect(asked.json.error).toBe('use_dpop_nonce');
    const nonce = asked.headers.get('dpop-nonce')!;
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const usedAssertion = await assertion();
      const usedProof = await proof(nonce);
      expect((await token(usedAssertion, usedProof)).status).toBe(200);

      await nextSecond();
      const exit = await stopProcess(server, signal);
      expect(exit).toEqual(signal === 'SIGTERM' ? { code: 0, signal: null } : { code: null, signal: 'SIGKILL' });
      server = await startProcess();

      const replayedAssertion = await token(usedAssertion, await proof(nonce));
      expect(replayedAssertion.json, `after ${signal}`).toEqual({
        error: 'invalid_client',
        error_description: 'client_assertion may have been used before this server started (its iat, or exp minus 300 s, is earlier): sign a new one',
      });
      const replayedProof = await token(await assertion(), usedProof);
      expect(replayedProof.json, `after ${signal}`).toEqual({ error: 'use_dpop_nonce', error_description: 'the DPoP proof was made before the server started: send a new proof with this nonce' });
      expect(replayedProof.headers.get('dpop-nonce')).toBe(nonce);
      // The nonce of before the restart is still good (its key is in the database).
      const fresh = await token(await assertion(), await proof(nonce));
      expect(fresh.json, `after ${signal}`).toMatchObject({ token_type: 'DPoP' });
    }
    expect(await stopProcess(server, 'SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
