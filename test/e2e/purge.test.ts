import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.js';
import { authorizationUrl, basic, obtainCode, postForm } from '../support/flow.js';
import { WEB_SECRET, startServer, type TestServer } from '../support/server.js';

/** The purge job: nothing grows without bound (codes, interactions, sessions, tokens, revocations). */
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const TABLES = ['authorization_codes', 'interactions', 'sessions', 'session_clients', 'issued_tokens', 'refresh_tokens', 'revoked_tokens'] as const;

function counts(): Record<string, number> {
  const sqlite = server.trusty.db.sqlite;
  return Object.fromEntries(TABLES.map((table) => [table, (sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n]));
}

async function activity() {
  const { code, verifier, redirectUri } = await obtainCode(server, 'web-app', { scope: 'openid offline_access' });
  const tokens = await postForm(server.issuer + '/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri }, { authorization: basic('web-app', WEB_SECRET) });
  await postForm(server.issuer + '/revoke', { token: String(tokens.json.access_token) }, { authorization: basic('web-app', WEB_SECRET) });
  // An abandoned interaction.
  await new Browser().get(authorizationUrl(server, 'web-app', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'));
}

describe('purging expired rows', () => {
  it('deletes what expired and keeps what is live', async () => {
    await activity();
    const before = counts();
    for (const table of TABLES) expect(before[table], table).toBeGreaterThan(0);

    expect(await server.trusty.purge()).toMatchObject({ authorization_codes: 0, sessions: 0, refresh_tokens: 0 });
    expect(counts()).toEqual(before);

    // Past every lifetime: refresh tokens live 30 days at most.
    server.clock.advance(31 * 86400);
    await activity();
    const report = await server.trusty.purge();
    expect(report).toMatchObject({
      authorization_codes: before.authorization_codes,
      interactions: before.interactions,
      sessions: before.sessions,
      session_clients: before.session_clients,
      issued_tokens: before.issued_tokens,
      refresh_tokens: before.refresh_tokens,
      revoked_tokens: before.revoked_tokens,
    });
    // What the second round created is still there.
    expect(counts()).toEqual(before);
  });
});

describe('the audit log', () => {
  it('records security events within a second, off the request path, without secrets', async () => {
    await activity();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const rows = server.trusty.db.sqlite.prepare('SELECT event, client_id, details FROM audit_log ORDER BY id').all() as Array<{ event: string; client_id: string; details: string | null }>;
    const events = new Set(rows.map((row) => row.event));
    for (const event of ['login.success', 'token.issued', 'token.revoked']) expect(events, event).toContain(event);
    const text = JSON.stringify(rows);
    expect(text).not.toContain(WEB_SECRET);
    expect(text).not.toContain('alice-password');
  });
});
