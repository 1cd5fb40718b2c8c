import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';

/** An https issuer (TLS ends at a proxy in front): every answer asks browsers to keep to https (RFC 6797). */
describe('security headers with an https issuer', () => {
  let server: TestServer;
  let base: string;
  beforeAll(async () => {
    server = await startServer({ settings: { issuer: 'https://login.example.test' } });
    base = `http://127.0.0.1:${new URL(server.app.listeningOrigin).port}`;
  });
  afterAll(async () => server?.close());

  it.each([
    ['an API answer', '/token', 'POST'],
    ['the health check', '/health', 'GET'],
    ['an error page', '/auth?client_id=nobody', 'GET'],
  ])('%s carries Strict-Transport-Security', async (_name, path, method) => {
    const response = await fetch(base + path, { method, headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}, body: method === 'POST' ? '' : undefined });
    expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('gives pages a strict Content-Security-Policy with no script source', async () => {
    const page = await fetch(`${base}/auth?client_id=nobody`);
    expect(page.status).toBe(400);
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).not.toContain('script-src');
    expect(policy).not.toContain('unsafe-inline');
  });
});
