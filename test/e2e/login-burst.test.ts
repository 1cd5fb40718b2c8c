import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WAITING_HASHES, MAX_WAITING_HASHES_PER_KEY } from '../../src/infrastructure/bcrypt-password-hasher.js';
import { passwordHashingThreads, poolSize } from '../../src/infrastructure/thread-pool.js';
import { Browser, parseForm } from '../support/browser.js';
import { authorizationUrl, basic, postForm } from '../support/flow.js';
import { ALICE, startServer, type TestServer } from '../support/server.js';

/**
 * A burst of logins from one IP against a real listening server: bcrypt hashes wait their turn
 * (never on every pool thread), the logins beyond that IP's share of the queue get a 503 page
 * that says when to retry although the queue has room for more, and the token endpoint keeps
 * signing meanwhile.
 */
let server: TestServer;
const MACHINE = basic('machine', 'machine-secret-0123456789-abcdefghijklmnopqrstuvwxyz');
// Each hash takes tens of milliseconds, so the burst arrives long before the queue drains.
const COST = 10;
// This process's pool (vitest sets no UV_THREADPOOL_SIZE: libuv's 4), as the server sees it.
const RUNNING = passwordHashingThreads(poolSize(process.env.UV_THREADPOOL_SIZE));
const BURST = RUNNING + MAX_WAITING_HASHES + 12;

beforeAll(async () => {
  // The burst is one account's: with the account lockout on, only free_failures + 1 of its
  // passwords are checked at once (docs/lockout.md), and this test is about the hashing queue.
  server = await startServer({ settings: { passwords: { bcrypt_cost: COST }, lockout: { enabled: false } } });
});
afterAll(async () => server?.close());

async function loginForm() {
  const browser = new Browser();
  const url = authorizationUrl(server, 'web-app', await oidc.calculatePKCECodeChallenge('v'.repeat(43)));
  const page = await browser.get(url);
  expect(page.status).toBe(200);
  return { browser, page, form: parseForm(page.html) };
}

describe('a burst of logins', () => {
  it("refuses those beyond one IP's share of the queue with a 503 page and Retry-After, signs tokens meanwhile, and a refused form works later", async () => {
    const forms = [];
    for (let i = 0; i < BURST; i++) forms.push(await loginForm());

    let signedInSoFar = 0;
    const logins = forms.map(({ browser, page, form }) =>
      browser.submit(page, form, ALICE).then((result) => {
        if (result.status === 0) signedInSoFar++;
        return result;
      }),
    );
    // The first answer comes once the queue is full (a refusal) or a hash is done: every login
    // is then waiting for bcrypt, and the token's signature must not wait behind them.
    await Promise.race(logins);
    const token = await postForm(server.issuer + '/token', { grant_type: 'client_credentials', scope: 'invoices:read' }, { authorization: MACHINE });
    const signedInBeforeToken = signedInSoFar;
    const results = await Promise.all(logins);

    expect(token.status).toBe(200);
    expect(signedInBeforeToken).toBeLessThan(BURST / 4);

    const refused = results.filter((page) => page.status === 503);
    const signedIn = results.filter((page) => page.status === 0);
    expect(refused.length + signedIn.length).toBe(BURST);
    // One IP holds its share (running + MAX_WAITING_HASHES_PER_KEY waiting), never the whole
    // queue: most of the burst is refused though MAX_WAITING_HASHES had room (the whole queue
    // would refuse only the last 12). A few more get in as hashes finish while the burst arrives.
    expect(signedIn.length).toBeGreaterThanOrEqual(RUNNING + MAX_WAITING_HASHES_PER_KEY);
    expect(refused.length).toBeGreaterThan(BURST / 2);
    for (const page of signedIn) expect(new URL(page.url).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const page = refused[0]!;
    expect(page.headers.get('retry-after')).toBe('5');
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.html).toContain('<code>temporarily_unavailable</code> too many sign-ins at once; retry shortly');

    // Nothing changed for a refused login: its form, sent again, signs in.
    const index = results.indexOf(page);
    const { browser, form } = forms[index]!;
    const again = await browser.submit(forms[index]!.page, form, ALICE);
    expect(again.status).toBe(0);
    expect(new URL(again.url).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
