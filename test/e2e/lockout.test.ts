import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BcryptPasswordHasher } from '../../src/infrastructure/bcrypt-password-hasher.js';
import { adminClientEntry, adminFetch, adminToken } from '../support/admin.js';
import { Browser, parseForm, type Page } from '../support/browser.js';
import { runCli } from '../support/cli.js';
import { TestClock } from '../support/clock.js';
import { authorizationUrl } from '../support/flow.js';
import { freePort, startServer, startServerAt, type TestServer } from '../support/server.js';

/**
 * Progressive lockout (docs/lockout.md) with the defaults — 5 free failures, waits of 1, 2, 4 and
 * 8 s, a lock of 900 s at the 10th, each later failure locking again twice as long — against a
 * real listening server, through the real login form, with the server's clock moved instead of
 * sleeping. Each test has a user (or a made-up name) of its own. The per-IP rate limit is off
 * here: it is tested on its own, and these tests post the form a hundred times.
 */
const USERS = ['ursula', 'victor', 'wanda', 'xavier', 'yann', 'zoe', 'restart'];
const password = (username: string) => `${username}-password`;
const EXTRA = {
  clients: [adminClientEntry()],
  users: USERS.map((username) => ({ username, password: password(username), claims: { name: username } })),
  settings: { rate_limits: { enabled: false } },
};

let server: TestServer;
let dir: string;
let port: number;
const clock = new TestClock();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trusty-lockout-'));
  port = await freePort();
  server = await startServerAt(port, dir, { extra: EXTRA, clock });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

/** One login attempt on a fresh login page (an interaction expires if the clock moved far). */
async function attempt(username: string, pass: string, language = 'en'): Promise<Page> {
  const browser = new Browser(undefined, language);
  const page = await browser.get(authorizationUrl(server, 'web-app', await oidc.calculatePKCECodeChallenge('v'.repeat(43))));
  expect(page.status).toBe(200);
  return browser.submit(page, parseForm(page.html), { username, password: pass });
}

const signedIn = (page: Page) => page.status === 0 && new URL(page.url).searchParams.get('code') !== null;

/** Wrong passwords until failure number `lockAfter` (10): each when its wait is over, the clock moved past it. */
async function lock(username: string): Promise<void> {
  for (let failure = 1; failure <= 10; failure++) {
    const wait = failure <= 6 ? 0 : 2 ** (failure - 7);
    clock.advance(wait);
    const page = await attempt(username, 'wrong-password');
    expect(page.status, `failure ${failure}`).toBe(401);
  }
}

async function userView(username: string) {
  const response = await adminFetch(server, await adminToken(server), 'GET', `/users/${username}`);
  expect(response.status).toBe(200);
  return response.body as { id: string; failed_logins: number; locked_until: string | null };
}

/** The audit rows of a user (or of no user: username in details), oldest first. */
async function auditOf(where: { userId?: string; username?: string }): Promise<Array<{ event: string; actor: string | null; details: Record<string, unknown> }>> {
  await server.trusty.deps.control.flush();
  const rows = server.trusty.db.sqlite
    .prepare<[string], { event: string; actor: string | null; details: string | null }>(
      where.userId !== undefined
        ? 'SELECT event, actor, details FROM audit_log WHERE user_id = ? ORDER BY at_ms, rowid'
        : "SELECT event, actor, details FROM audit_log WHERE user_id IS NULL AND json_extract(details, '$.username') = ? ORDER BY at_ms, rowid",
    )
    .all(where.userId ?? where.username!);
  return rows.map((row) => ({ event: row.event, actor: row.actor, details: row.details === null ? {} : (JSON.parse(row.details) as Record<string, unknown>) }));
}

describe('progressive lockout of an account', () => {
  it('lets 5 wrong passwords through (401 each), then refuses the right one right after the 6th with 429 and Retry-After 1, unchecked; a second later it signs in', async () => {
    for (let failure = 1; failure <= 6; failure++) {
      const page = await attempt('ursula', 'wrong-password');
      expect(page.status).toBe(401);
      expect(page.headers.get('retry-after')).toBeNull();
      expect(page.html).toContain('The username or password is incorrect.');
    }
    const verify = vi.spyOn(BcryptPasswordHasher.prototype, 'verify');
    const refused = await attempt('ursula', password('ursula'));
    expect(verify).not.toHaveBeenCalled(); // refused before bcrypt: a throttled account costs no hash
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(refused.html).toContain('<p class="error" role="alert" id="login-error">Too many attempts. Try again in 1 second.</p>');
    // The login page again: the same form, the username kept.
    expect(parseForm(refused.html).action).toMatch(/^\/interaction\/[A-Za-z0-9_-]{43}\/login$/);
    expect(refused.html).toContain('value="ursula"');
    // A refusal is not another failure.
    expect(await userView('ursula')).toMatchObject({ failed_logins: 6, locked_until: null });

    clock.advance(1);
    expect(signedIn(await attempt('ursula', password('ursula')))).toBe(true);
    // A success forgets the count: 5 wrong passwords are free again.
    expect(await userView('ursula')).toMatchObject({ failed_logins: 0, locked_until: null });
    for (let failure = 1; failure <= 5; failure++) expect((await attempt('ursula', 'wrong-password')).status).toBe(401);
    expect(signedIn(await attempt('ursula', password('ursula')))).toBe(true);
  });

  it('doubles the wait after each failure: 1, 2, 4, 8 s, shown in the page language', async () => {
    for (let failure = 1; failure <= 6; failure++) expect((await attempt('yann', 'wrong-password')).status).toBe(401);
    for (const wait of [1, 2, 4, 8]) {
      const refused = await attempt('yann', 'wrong-password', 'fr');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe(String(wait));
      expect(refused.html).toContain(`Trop de tentatives. Réessayez dans ${wait} ${wait === 1 ? 'seconde' : 'secondes'}.`);
      clock.advance(wait - 1);
      expect((await attempt('yann', 'wrong-password')).status).toBe(429);
      clock.advance(1);
      if (wait < 8) expect((await attempt('yann', 'wrong-password')).status).toBe(401);
    }
    expect(await userView('yann')).toMatchObject({ failed_logins: 9, locked_until: null });
    expect(signedIn(await attempt('yann', password('yann')))).toBe(true);
  });

  it('locks the account at the 10th failure for lock_seconds, even for the right password; a failure after the lock locks it again, twice as long; a success forgets all', async () => {
    await lock('victor');
    const view = await userView('victor');
    expect(view.failed_logins).toBe(10);
    const until = Date.parse(view.locked_until!);
    expect(until - clock.now() * 1000).toBeGreaterThan(899_000);
    expect(until - clock.now() * 1000).toBeLessThanOrEqual(901_000);

    const verify = vi.spyOn(BcryptPasswordHasher.prototype, 'verify');
    const refused = await attempt('victor', password('victor'));
    expect(verify).not.toHaveBeenCalled();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('900');
    expect(refused.html).toContain('Too many attempts. Try again in 15 minutes.');
    verify.mockRestore();

    clock.advance(899);
    const stillLocked = await attempt('victor', password('victor'));
    expect(stillLocked.status).toBe(429);
    expect(stillLocked.headers.get('retry-after')).toBe('1');
    expect(stillLocked.html).toContain('Too many attempts. Try again in 1 second.');
    clock.advance(1);
    // The lock ended but the count stands: a wrong password is failure 11, and locks for 1800 s.
    expect((await attempt('victor', 'wrong-password')).status).toBe(401);
    const second = await userView('victor');
    expect(second.failed_logins).toBe(11);
    expect(Date.parse(second.locked_until!) - clock.now() * 1000).toBeGreaterThan(1_799_000);
    const refusedAgain = await attempt('victor', password('victor'));
    expect(refusedAgain.status).toBe(429);
    expect(refusedAgain.headers.get('retry-after')).toBe('1800');
    expect(refusedAgain.html).toContain('Too many attempts. Try again in 30 minutes.');
    clock.advance(1800);
    expect(signedIn(await attempt('victor', password('victor')))).toBe(true);
    // A success forgets the count and the locks in a row: 5 wrong passwords are free again.
    expect(await userView('victor')).toMatchObject({ failed_logins: 0, locked_until: null });
    for (let failure = 1; failure <= 6; failure++) expect((await attempt('victor', 'wrong-password')).status).toBe(401);
    expect((await attempt('victor', 'wrong-password')).headers.get('retry-after')).toBe('1');

    const events = await auditOf({ userId: view.id });
    const locked = events.filter((e) => e.event === 'user.locked');
    expect(locked).toEqual([
      { event: 'user.locked', actor: null, details: { failures: 10, until: view.locked_until, lock: 1 } },
      { event: 'user.locked', actor: null, details: { failures: 11, until: second.locked_until, lock: 2 } },
    ]);
    const reasons = events.filter((e) => e.event === 'login.failure').map((e) => e.details.reason);
    expect(reasons).toEqual([...Array(10).fill('bad_password'), 'locked', 'locked', 'bad_password', 'locked', ...Array(6).fill('bad_password'), 'throttled']);
    const refusal = events.find((e) => e.details.reason === 'locked')!;
    expect(refusal.details).toEqual({ username: 'victor', reason: 'locked', retry_after: 900 });
    for (const event of events) expect(JSON.stringify(event.details)).not.toContain('password-');
  });

  it('is lifted at once by an operator through the management API (audited user.unlocked)', async () => {
    await lock('wanda');
    expect((await attempt('wanda', password('wanda'))).status).toBe(429);
    const token = await adminToken(server);
    const unlocked = await adminFetch(server, token, 'POST', '/users/wanda/unlock');
    expect(unlocked.status).toBe(200);
    expect(unlocked.body).toMatchObject({ username: 'wanda', failed_logins: 0, locked_until: null });
    expect(signedIn(await attempt('wanda', password('wanda')))).toBe(true);

    const events = await auditOf({ userId: unlocked.body.id });
    expect(events.filter((e) => e.event === 'user.unlocked')).toEqual([
      {
        event: 'user.unlocked',
        actor: 'client:admin-bot',
        details: { before: { failed_logins: 10, locked_until: expect.stringMatching(/^\d{4}-/) }, after: { failed_logins: 0, locked_until: null } },
      },
    ]);
    // Unknown user: 404; no token: 401.
    expect((await adminFetch(server, token, 'POST', '/users/nobody/unlock')).status).toBe(404);
    expect((await adminFetch(server, undefined, 'POST', '/users/wanda/unlock')).status).toBe(401);
    const openapi = await adminFetch(server, undefined, 'GET', '/openapi.json');
    expect(openapi.body.paths['/users/{id}/unlock'].post.security).toEqual([{ trusty: ['trusty:admin'] }]);
  });

  it('is lifted at once by an operator with `trusty users unlock` (another process, the same database)', async () => {
    await lock('xavier');
    expect((await attempt('xavier', password('xavier'))).status).toBe(429);
    const shown = await runCli(['--config', server.configPath, '--json', 'users', 'get', 'xavier']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ failed_logins: 10, locked_until: expect.stringMatching(/^\d{4}-/) });
    const unlocked = await runCli(['--config', server.configPath, '--json', 'users', 'unlock', 'xavier']);
    expect(unlocked.stderr).toBe('');
    expect(unlocked.code).toBe(0);
    expect(JSON.parse(unlocked.stdout)).toMatchObject({ username: 'xavier', failed_logins: 0, locked_until: null });
    expect(signedIn(await attempt('xavier', password('xavier')))).toBe(true);
    const events = await auditOf({ userId: JSON.parse(unlocked.stdout).id });
    expect(events.find((e) => e.event === 'user.unlocked')?.actor).toMatch(/^cli:/);
  }, 60_000); // two CLI processes, each compiling the sources through tsx

  it('answers a made-up username exactly as an existing one with wrong passwords: the same statuses, Retry-After and messages; nothing stored; refusals cost no hash', async () => {
    const rows = () => (server.trusty.db.sqlite.prepare('SELECT count(*) AS n FROM login_lockouts').get() as { n: number }).n;
    const before = rows();
    const verify = vi.spyOn(BcryptPasswordHasher.prototype, 'verify');
    /** Seconds to move the clock before each attempt: through the waits, the first lock (900 s) and three more, each twice as long. */
    const schedule = [0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 4, 0, 8, 0, 900, 0, 1800, 0, 3600, 0];
    const seen: Record<'real' | 'madeUp', Array<[number, string | null, string, number]>> = { real: [], madeUp: [] };
    for (const wait of schedule) {
      clock.advance(wait);
      for (const [who, username] of [['real', 'zoe'], ['madeUp', 'zoe-does-not-exist']] as const) {
        const hashes = verify.mock.calls.length;
        const page = await attempt(username, 'wrong-password');
        const message = /<p class="error" role="alert" id="login-error">([^<]*)<\/p>/.exec(page.html)?.[1] ?? '';
        seen[who].push([page.status, page.headers.get('retry-after'), message, verify.mock.calls.length - hashes]);
        expect(page.html).toContain(`value="${username}"`);
      }
    }
    const wrong = 'The username or password is incorrect.';
    const wait = (seconds: number, message: string) => [429, String(seconds), `Too many attempts. Try again in ${message}.`, 0];
    expect(seen.real).toEqual([
      ...Array(6).fill([401, null, wrong, 1]),
      wait(1, '1 second'),
      [401, null, wrong, 1],
      wait(2, '2 seconds'),
      [401, null, wrong, 1],
      wait(4, '4 seconds'),
      [401, null, wrong, 1],
      wait(8, '8 seconds'),
      [401, null, wrong, 1], // failure 10: locked for 900 s
      wait(900, '15 minutes'),
      [401, null, wrong, 1], // failure 11: 1800 s
      wait(1800, '30 minutes'),
      [401, null, wrong, 1], // 12: 3600 s
      wait(3600, '60 minutes'),
      [401, null, wrong, 1], // 13: 7200 s
      wait(7200, '2 hours'),
    ]);
    expect(seen.madeUp).toEqual(seen.real);

    // The real name's count is in the database; the made-up one's is not.
    expect(rows()).toBe(before + 1);
    const events = await auditOf({ username: 'zoe-does-not-exist' });
    expect(events.map((e) => e.details.reason)).toEqual(
      seen.madeUp.map(([status], i) => (status === 401 ? 'unknown_user' : i < 14 ? 'throttled' : 'locked')),
    );
    for (const event of events) expect(event.event).toBe('login.failure');
    expect(events.find((e) => e.details.reason === 'locked')?.details).toEqual({ username: 'zoe-does-not-exist', reason: 'locked', retry_after: 900 });
    // user.locked is for existing accounts only.
    const zoe = await userView('zoe');
    expect((await auditOf({ userId: zoe.id })).filter((e) => e.event === 'user.locked').map((e) => e.details.lock)).toEqual([1, 2, 3, 4]);
    expect(server.trusty.db.sqlite.prepare("SELECT count(*) AS n FROM audit_log WHERE event = 'user.locked' AND user_id IS NULL").get()).toEqual({ n: 0 });
  });

  it("an operator's password reset lifts the lockout", async () => {
    const token = await adminToken(server);
    const created = await adminFetch(server, token, 'POST', '/users', { username: 'reset-me', password: 'reset-me-old-password' });
    expect(created.status).toBe(201);
    await lock('reset-me');
    expect((await attempt('reset-me', 'reset-me-old-password')).status).toBe(429);
    const reset = await adminFetch(server, token, 'POST', '/users/reset-me/password', { password: 'reset-me-new-password' });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ username: 'reset-me', failed_logins: 0, locked_until: null });
    expect(await userView('reset-me')).toMatchObject({ failed_logins: 0, locked_until: null });
    expect(signedIn(await attempt('reset-me', 'reset-me-new-password'))).toBe(true);
  });

  it('keeps a lock across a restart (the state is in the database)', async () => {
    await lock('restart');
    await server.close();
    server = await startServerAt(port, dir, { extra: EXTRA, clock });
    const refused = await attempt('restart', password('restart'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(890);
  });
});

describe('lockout disabled', () => {
  let off: TestServer;
  beforeAll(async () => {
    off = await startServer({ settings: { lockout: { enabled: false }, rate_limits: { enabled: false } } });
  });
  afterAll(async () => off?.close());

  it('checks every attempt at once: 12 wrong passwords (401 each), then the right one signs in', async () => {
    const browser = new Browser();
    const page = await browser.get(authorizationUrl(off, 'web-app', await oidc.calculatePKCECodeChallenge('v'.repeat(43))));
    let current = page;
    for (let i = 0; i < 12; i++) {
      current = await browser.submit(current, parseForm(current.html), { username: 'alice', password: 'wrong-password' });
      expect(current.status).toBe(401);
    }
    const done = await browser.submit(current, parseForm(current.html), { username: 'alice', password: 'alice-password' });
    expect(done.status).toBe(0);
    expect(off.trusty.db.sqlite.prepare('SELECT count(*) AS n FROM login_lockouts').get()).toEqual({ n: 0 });
  });
});
