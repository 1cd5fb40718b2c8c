import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, WEB_SECRET, type TestServer } from '../support/server.js';

/**
 * trust_proxy: X-Forwarded-For names the client only when the connection comes from a
 * configured proxy. Off by default, so a caller cannot pick the address its requests are
 * counted and audited under (rate limits, lockout, the audit log).
 */
const SERVICE = { client_id: 'svc', client_secret: WEB_SECRET, grant_types: ['client_credentials'], scope: 'invoices:read' };

async function auditedAddress(server: TestServer, forwardedFor: string): Promise<string | null> {
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`svc:${WEB_SECRET}`).toString('base64')}`,
      'x-forwarded-for': forwardedFor,
    },
    body: 'grant_type=client_credentials',
  });
  expect(response.status).toBe(200);
  await server.trusty.deps.control.flush();
  const db = new Database(server.dbPath, { readonly: true });
  try {
    const row = db.prepare("SELECT ip FROM audit_log WHERE event = 'token.issued' ORDER BY at_ms DESC, rowid DESC LIMIT 1").get() as { ip: string | null };
    return row.ip;
  } finally {
    db.close();
  }
}

/** The calls of a spied logger method. */
type Spied = { mock: { calls: unknown[][] } };

describe('trust_proxy', () => {
  let plain: TestServer;
  let proxied: TestServer;
  let plainWarnings: Spied;
  let proxiedWarnings: Spied;
  beforeAll(async () => {
    plain = await startServer({ clients: [SERVICE] });
    proxied = await startServer({ clients: [SERVICE], settings: { trust_proxy: ['127.0.0.1'] } });
    plainWarnings = vi.spyOn(plain.app.log, 'warn');
    proxiedWarnings = vi.spyOn(proxied.app.log, 'warn');
  });
  afterAll(async () => {
    await plain?.close();
    await proxied?.close();
  });

  it('is off by default: X-Forwarded-For is ignored and the socket address is recorded', async () => {
    expect(await auditedAddress(plain, '203.0.113.7')).toBe('127.0.0.1');
  });

  it('believes X-Forwarded-For from a configured proxy, up to the first address that is not one', async () => {
    expect(await auditedAddress(proxied, '203.0.113.7')).toBe('203.0.113.7');
    // A client-supplied entry before the proxy's own is not believed: only hops through trusted proxies are.
    expect(await auditedAddress(proxied, '198.51.100.1, 203.0.113.8')).toBe('203.0.113.8');
  });

  it('warns once per server, not per request, when X-Forwarded-For arrives while trust_proxy is empty', async () => {
    await auditedAddress(plain, '203.0.113.9');
    await auditedAddress(plain, '203.0.113.10');
    const forwarded = (spy: Spied) => spy.mock.calls.filter(([, message]) => typeof message === 'string' && message.startsWith('X-Forwarded-For'));
    expect(forwarded(plainWarnings)).toEqual([
      [
        { ip: '127.0.0.1' },
        "X-Forwarded-For received from 127.0.0.1 but trust_proxy is empty: client addresses are the proxy's (rate limits count all clients together); set trust_proxy",
      ],
    ]);
    // Behind a configured proxy, X-Forwarded-For is expected.
    expect(forwarded(proxiedWarnings)).toEqual([]);
  });
});
