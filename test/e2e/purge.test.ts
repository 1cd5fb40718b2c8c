import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, parseForm } from '../support/browser.js';
import { authorizationUrl, basic, obtainCode, postForm } from '../support/flow.js';
import { WEB_SECRET, startServer, type TestServer } from '../support/server.js';

/**
 * The purge job (src/infrastructure/sqlite/purge.ts): every table that grows with traffic loses
 * its rows once they can no longer matter, and not before. The clock moves in stages; each
 * stage says exactly which rows go, read through a separate read-only connection.
 */
const DAY = 86400;
const CHALLENGE = await oidc.calculatePKCECodeChallenge('p'.repeat(43));

/** Each table's row identity. */
const TABLES = {
  authorization_codes: 'code_digest',
  interactions: 'id',
  sessions: 'id_digest',
  session_clients: "sid || ' ' || client_id",
  issued_tokens: 'jti',
  refresh_tokens: 'token_digest',
  revoked_tokens: 'jti',
} as const;
type Table = keyof typeof TABLES;
type Rows = Record<Table, Set<string>>;

let server: TestServer;
let db: Database.Database;

beforeAll(async () => {
  server = await startServer();
  db = new Database(server.dbPath, { readonly: true, fileMustExist: true });
});
afterAll(async () => {
  db?.close();
  await server?.close();
});

/** How the server stores codes, session cookies and refresh tokens: their SHA-256. */
const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

function rows(): Rows {
  const all = {} as Rows;
  for (const [table, key] of Object.entries(TABLES) as Array<[Table, string]>) {
    all[table] = new Set(db.prepare<[], { k: string }>(`SELECT ${key} AS k FROM ${table}`).all().map((r) => r.k));
  }
  return all;
}

function minus(a: Set<string>, b: Set<string>): Set<string> {
  return new Set([...a].filter((x) => !b.has(x)));
}

const none = (): Rows => Object.fromEntries(Object.keys(TABLES).map((t) => [t, new Set<string>()])) as Rows;

/** Purges and returns what it reported and which rows it actually deleted. */
async function purge() {
  const before = rows();
  const report = await server.trusty.purge();
  const after = rows();
  const removed = {} as Rows;
  for (const table of Object.keys(TABLES) as Table[]) {
    expect(minus(after[table], before[table]), `${table}: the purge adds nothing`).toEqual(new Set());
    removed[table] = minus(before[table], after[table]);
  }
  // The report counts exactly the rows that went.
  expect(report).toEqual({ ...Object.fromEntries(Object.entries(removed).map(([t, set]) => [t, set.size])), audit_log: 0 });
  return { removed, after };
}

async function token(form: Record<string, string>) {
  const response = await postForm(server.issuer + '/token', form, { authorization: basic('web-app', WEB_SECRET) });
  expect(response.status, JSON.stringify(response.json)).toBe(200);
  return response.json as { access_token: string; refresh_token: string };
}

/**
 * A round of traffic: a session with a used code (tokens, a rotated refresh token, a revoked
 * access token) and an unused one, an abandoned login, and a session its user logged out of.
 */
async function traffic() {
  const before = rows();
  const browser = new Browser();
  const used = await obtainCode(server, 'web-app', { scope: 'openid offline_access' }, browser);
  const first = await token({ grant_type: 'authorization_code', code: used.code, code_verifier: used.verifier, redirect_uri: used.redirectUri });
  const second = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
  expect(second.refresh_token).not.toBe(first.refresh_token); // web-app rotates
  expect((await postForm(server.issuer + '/revoke', { token: first.access_token }, { authorization: basic('web-app', WEB_SECRET) })).status).toBe(200);
  const unused = await obtainCode(server, 'web-app', {}, browser); // the SSO session answers

  const abandoned = await new Browser().get(authorizationUrl(server, 'web-app', CHALLENGE));
  expect(abandoned.html).toContain('name="password"');

  const leaving = new Browser();
  await obtainCode(server, 'web-app', {}, leaving);
  const endedCookie = leaving.cookie('trusty_session')!;
  const page = await leaving.get(`${server.issuer}/logout?client_id=web-app`);
  expect((await leaving.submit(page, parseForm(page.html), { decision: 'confirm' })).html).toContain('You are signed out');

  const created = rows();
  for (const table of Object.keys(TABLES) as Table[]) created[table] = minus(created[table], before[table]);
  const ids = {
    usedCode: digest(used.code),
    unusedCode: digest(unused.code),
    session: digest(browser.cookie('trusty_session')!),
    endedSession: digest(endedCookie),
    rotatedRefresh: digest(first.refresh_token),
    currentRefresh: digest(second.refresh_token),
  };
  // The identities this test relies on are the rows the server wrote.
  expect(created.authorization_codes).toContain(ids.usedCode);
  expect(created.authorization_codes).toContain(ids.unusedCode);
  expect(created.sessions).toEqual(new Set([ids.session, ids.endedSession]));
  expect(created.refresh_tokens).toEqual(new Set([ids.rotatedRefresh, ids.currentRefresh]));
  // Which clients each session signed in to (for back-channel logout), keyed by its sid.
  const signedInTo = (session: string) => `${column<string>('SELECT sid AS v FROM sessions WHERE id_digest = ?', session)} web-app`;
  const clients = { session: signedInTo(ids.session), endedSession: signedInTo(ids.endedSession) };
  expect(created.session_clients).toEqual(new Set([clients.session, clients.endedSession]));
  for (const table of ['interactions', 'issued_tokens', 'revoked_tokens'] as const) expect(created[table].size, table).toBeGreaterThan(0);
  return { created, ids, clients, refreshToken: second.refresh_token };
}

function column<T>(sql: string, id: string): T {
  return (db.prepare<[string], { v: T }>(sql).get(id) as { v: T }).v;
}

/** No rows but these. */
const only = (some: Partial<Rows>): Rows => ({ ...none(), ...some });

describe('purging expired rows', () => {
  it('deletes each kind of row once it can no longer matter, keeps the live ones, and reports the counts', async () => {
    const old = await traffic();
    const start = server.clock.now();

    // At once: only the session its user logged out of (and the clients it had signed in to).
    let { removed } = await purge();
    expect(removed).toEqual(only({ sessions: new Set([old.ids.endedSession]), session_clients: new Set([old.clients.endedSession]) }));

    // +5 min: the codes expired (60 s), but a used one is kept as long as its access token
    // lives (600 s) so a replay is still recognised; the login (900 s) may still be finished.
    server.clock.advance(300);
    expect(column<number>('SELECT expires_at AS v FROM authorization_codes WHERE code_digest = ?', old.ids.usedCode)).toBeLessThan(server.clock.now());
    expect(column<number | null>('SELECT consumed_at AS v FROM authorization_codes WHERE code_digest = ?', old.ids.usedCode)).not.toBeNull();
    expect(column<number | null>('SELECT consumed_at AS v FROM authorization_codes WHERE code_digest = ?', old.ids.unusedCode)).toBeNull();
    ({ removed } = await purge());
    expect(removed).toEqual(none());

    // +1 h: codes (used and unused), interactions, access token records and revocations go;
    // the SSO session (8 h) and the refresh tokens stay.
    server.clock.advance(start + 3600 - server.clock.now());
    ({ removed } = await purge());
    expect(removed).toEqual(
      only({
        authorization_codes: old.created.authorization_codes,
        interactions: old.created.interactions,
        issued_tokens: old.created.issued_tokens,
        revoked_tokens: old.created.revoked_tokens,
      }),
    );

    // +15 days: the session is over, and the current refresh token sat idle past 14 days;
    // the rotated one stays until its family ends (30 days), to detect its reuse.
    server.clock.advance(start + 15 * DAY - server.clock.now());
    ({ removed } = await purge());
    expect(removed).toEqual(
      only({ sessions: new Set([old.ids.session]), session_clients: new Set([old.clients.session]), refresh_tokens: new Set([old.ids.currentRefresh]) }),
    );

    // +31 days: the family has ended. A new round of traffic is live and stays, except the
    // session its user just logged out of.
    server.clock.advance(start + 31 * DAY - server.clock.now());
    const live = await traffic();
    let after: Rows;
    ({ removed, after } = await purge());
    expect(removed).toEqual(
      only({ sessions: new Set([live.ids.endedSession]), session_clients: new Set([live.clients.endedSession]), refresh_tokens: new Set([old.ids.rotatedRefresh]) }),
    );
    // Nothing from the first round is left; everything live is.
    expect(after).toEqual({
      ...live.created,
      sessions: minus(live.created.sessions, new Set([live.ids.endedSession])),
      session_clients: new Set([live.clients.session]),
    });

    // What stayed still works: the live refresh token refreshes.
    await token({ grant_type: 'refresh_token', refresh_token: live.refreshToken });
  });
});
