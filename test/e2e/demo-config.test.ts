import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, loginThrough } from '../support/browser.js';
import { freePort } from '../support/server.js';

/**
 * The shipped config.yaml, started as `npm start` starts it (only PORT, ISSUER and
 * DATABASE_PATH overridden so the test does not collide with a running demo): a relying party
 * built on openid-client logs alice in, gets tokens and calls userinfo.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let child: ChildProcess;
let issuer: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trusty-demo-'));
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { ...process.env, TRUSTY_CONFIG: join(root, 'config.yaml'), PORT: String(port), ISSUER: issuer, DATABASE_PATH: join(dir, 'demo.db'), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the demo server exited with ${child.exitCode}`);
    try {
      if ((await fetch(issuer + '/health')).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the demo server did not become healthy in 20 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('the shipped demo configuration', () => {
  it('lets openid-client complete login → code → tokens → userinfo with web-app and alice', async () => {
    const config = await oidc.discovery(new URL(issuer), 'web-app', undefined, oidc.ClientSecretBasic('demo-secret-change-me-0123456789abcdefghijklmn'), {
      execute: [oidc.allowInsecureRequests],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: 'http://127.0.0.1:5001/callback',
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const callback = await loginThrough(new Browser(['http://127.0.0.1:5001/']), url.href, { username: 'alice', password: 'alice-password' });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier, expectedState: state });
    const sub = tokens.claims()!.sub;
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, sub);
    expect(userinfo).toMatchObject({ sub, name: 'Alice Martin', email: 'alice@example.com', preferred_username: 'alice' });
  });
});
